//! Every path of this repository that README.md and the pages of docs/
//! name exists: the targets of links (`[text](path)`), the paths in the
//! text (`emulator/src/nfd/qc.rs`, `ci/scenarios/`, ...) and the entries
//! of the project-structure tree in docs/README.md. A file moved, renamed
//! or removed without its documentation fails here, with the page and line
//! that still name it.

use std::path::{Path, PathBuf};

/// The repository's top-level directories: a path in the text that starts
/// with one of them is a path of this repository.
const TOP: [&str; 7] = [
    "emulator/",
    "qemu-glue/",
    "firmware/",
    "images/",
    "ci/",
    "docs/",
    "fuzz/",
];

/// Written shortly before a path of another project (its name, or a source
/// tag of docs/timing.md): such a path is not looked for here.
const OTHER_PROJECT: [&str; 6] = ["nic-firmware", "[FW]", "[FE]", "[DRV]", "QEMU", "binutils"];

/// How far before a path [`OTHER_PROJECT`] markers count, in characters.
const OTHER_PROJECT_REACH: usize = 32;

/// Paths that exist only once a tool has run (git ignores them).
const GENERATED: [&str; 3] = ["fuzz/corpus", "fuzz/artifacts", "fuzz/coverage"];

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// README.md and every page of docs/, in a stable order.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ readable")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    pages.insert(0, root.join("README.md"));
    pages
}

/// A path a page names: where (byte offset in the page), and the path as a
/// repository path or relative to the page.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    /// A path in the text, relative to the repository's root.
    Repo(usize, String),
    /// A link target, relative to the page's directory.
    Link(usize, String),
}

/// A character that may continue a path.
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// A segment that stands for any name (`NAME`, `N`): all capitals.
fn placeholder(segment: &str) -> bool {
    segment.chars().any(|c| c.is_ascii_uppercase())
        && segment
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The repository paths in `text` (see [`TOP`]), without the `:line` or
/// `#anchor` after them; placeholders (`ci/scenarios/NAME`,
/// `docs/<page>.md`, `images/*.sh`), other projects' paths and generated
/// ones left out.
fn repo_paths(text: &str) -> Vec<Named> {
    let mut out = Vec::new();
    for (start, _) in text.char_indices() {
        let rest = &text[start..];
        if !TOP.iter().any(|t| rest.starts_with(t)) {
            continue;
        }
        if text[..start].chars().next_back().is_some_and(path_char) {
            continue;
        }
        let end = rest.find(|c: char| !path_char(c)).unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches(['.', ',']);
        if rest[end..].starts_with(['<', '*', '{', '…']) || path.split('/').any(placeholder) {
            continue;
        }
        let before: String = text[..start]
            .chars()
            .rev()
            .take(OTHER_PROJECT_REACH)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if OTHER_PROJECT.iter().any(|m| before.contains(m)) {
            continue;
        }
        if GENERATED.iter().any(|g| path.starts_with(g)) {
            continue;
        }
        out.push(Named::Repo(start, path.to_owned()));
    }
    out
}

/// The targets of the links in `text` that are files of this repository
/// (not web addresses, not anchors in the page itself), without `#anchor`.
fn links(text: &str) -> Vec<Named> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("](") {
        let start = from + i + 2;
        from = start;
        let Some(len) = text[start..].find(')') else {
            break;
        };
        let target = &text[start..start + len];
        let target = target.split('#').next().unwrap_or_default();
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        out.push(Named::Link(start, target.to_owned()));
    }
    out
}

/// The entries of the project-structure tree (the fenced block after
/// "## Project structure"): a top-level directory, then its entries
/// indented under it (`src/vfio.rs`), as repository paths.
fn tree(text: &str) -> Vec<Named> {
    let mut out = Vec::new();
    let Some(at) = text.find("## Project structure") else {
        return out;
    };
    let Some(open) = text[at..].find("```").map(|i| at + i) else {
        return out;
    };
    let body_start = text[open..].find('\n').map_or(text.len(), |i| open + i + 1);
    let body_end = text[body_start..]
        .find("```")
        .map_or(text.len(), |i| body_start + i);
    let mut top = String::new();
    let mut offset = body_start;
    for line in text[body_start..body_end].split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        let is_path = first.contains('/') || first.ends_with(".rs") || first.ends_with(".md");
        if !is_path {
            continue;
        }
        let pos = here + line.find(first).unwrap_or(0);
        if line.starts_with(char::is_whitespace) {
            out.push(Named::Repo(pos, format!("{top}{first}")));
        } else {
            top = first.to_owned();
            out.push(Named::Repo(pos, top.clone()));
        }
    }
    out
}

/// Every path `text` names (see [`repo_paths`], [`links`], [`tree`]).
fn named(text: &str) -> Vec<Named> {
    let mut all = repo_paths(text);
    all.extend(links(text));
    all.extend(tree(text));
    all
}

#[test]
fn every_path_the_readme_and_the_docs_name_exists() {
    let root = root();
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).expect("page readable");
        let dir = page.parent().expect("a page's directory");
        for n in named(&text) {
            let (at, path) = match &n {
                Named::Repo(at, p) => (*at, root.join(p)),
                Named::Link(at, p) => (*at, dir.join(p)),
            };
            checked += 1;
            if !path.exists() {
                let line = text[..at].matches('\n').count() + 1;
                let name = page
                    .strip_prefix(&root)
                    .unwrap_or(&page)
                    .display()
                    .to_string();
                missing.push(format!("{name}:{line}: {n:?}"));
            }
        }
    }
    assert!(
        checked > 200,
        "only {checked} paths found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "paths named in the documentation that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scan_finds_paths_and_leaves_out_what_is_not_one() {
    let text = "Code: `emulator/src/nfd/qc.rs` (`QueueController`), \
        emulator/src/dma.rs:305, see [nfd](nfd.md#queue-controller) and \
        [web](https://example.invalid/x). Not: ci/scenarios/NAME, \
        `docs/<page>.md`, images/*.sh, nic-firmware `firmware/apps/nic/pv.uc:62`, \
        fuzz/corpus/x, /lib/firmware/netronome, xemulator/src.";
    let found: Vec<String> = named(text)
        .into_iter()
        .map(|n| match n {
            Named::Repo(_, p) => p,
            Named::Link(_, p) => format!("link {p}"),
        })
        .collect();
    assert_eq!(
        found,
        [
            "emulator/src/nfd/qc.rs",
            "emulator/src/dma.rs",
            "link nfd.md"
        ]
    );
}

#[test]
fn the_tree_entries_are_paths_under_their_directory() {
    let text = "## Project structure\n\n```\nemulator/      crate nfp-emu\n  \
        src/vfio.rs       VfioUserBackend\n                    QueueController, the map\n\
        docs/          this documentation\n```\n";
    let found: Vec<String> = tree(text)
        .into_iter()
        .map(|n| match n {
            Named::Repo(_, p) | Named::Link(_, p) => p,
        })
        .collect();
    assert_eq!(found, ["emulator/", "emulator/src/vfio.rs", "docs/"]);
}
