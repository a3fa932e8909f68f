//! The emulator's module structure has no import cycles: no module uses a
//! sibling that uses it back, at any level (top-level modules such as
//! `nfd` and `datapath`, and submodules such as `nfd::rings` and
//! `nfd::vnic`). Read from the sources: every `crate::`, `super::` and
//! `self::` path outside comments and `#[cfg(test)]` code is an edge from
//! the module that writes it to the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path, e.g. `["nfd", "rings", "tx"]`.
type ModPath = Vec<String>;

/// Source text with comments, string and char literals blanked out.
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || b.get(i + 2) == Some(&'\'')) {
            // A char literal (not a lifetime).
            i += 1;
            while i < b.len() && b[i] != '\'' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Remove the items under `#[cfg(test)]` (a `mod x;` declaration, an
/// inline module, a function); returns the remaining text and the names
/// of test-only modules declared in files of their own.
fn without_test_code(src: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_mods = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        // The item ends at the `;` or the `}` closing its first `{`.
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, ch) in item.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    let decl = item[..i].split_whitespace().collect::<Vec<_>>();
                    if let [.., "mod", name] = decl[..] {
                        test_mods.push(name.to_string());
                    }
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_mods)
}

fn ident_at(b: &[u8], i: usize) -> Option<(String, usize)> {
    let start = i;
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    (j > start).then(|| (String::from_utf8_lossy(&b[start..j]).into_owned(), j))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Parse the path (or `use` tree) starting at `i` right after `prefix::`,
/// pushing every full path reached onto `out`. Returns where it ended.
fn parse_tree(b: &[u8], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    i = skip_ws(b, i);
    if b.get(i) == Some(&b'{') {
        i += 1;
        loop {
            i = skip_ws(b, i);
            match b.get(i) {
                None => return i,
                Some(b'}') => return i + 1,
                Some(b',') => i += 1,
                _ => {
                    let before = i;
                    i = parse_tree(b, i, prefix, out);
                    if i == before {
                        i += 1;
                    }
                }
            }
        }
    }
    if b.get(i) == Some(&b'*') {
        out.push(prefix.to_vec());
        return i + 1;
    }
    let Some((id, j)) = ident_at(b, i) else {
        out.push(prefix.to_vec());
        return i;
    };
    let mut path = prefix.to_vec();
    path.push(id);
    if b.get(j..j + 2) == Some(b"::") {
        return parse_tree(b, j + 2, &path, out);
    }
    out.push(path);
    j
}

/// Every `crate::`/`super::`/`self::` path in `code`, resolved from module
/// `here` to an absolute path.
fn paths(code: &str, here: &ModPath) -> Vec<ModPath> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let Some((id, j)) = ident_at(b, i) else {
            i += 1;
            continue;
        };
        if !boundary
            || !matches!(id.as_str(), "crate" | "super" | "self")
            || b.get(j..j + 2) != Some(b"::")
            || (i >= 2 && &b[i - 2..i] == b"::")
        {
            i = j;
            continue;
        }
        // Resolve the leading `crate`/`super`/`self` segments.
        let mut base: ModPath = match id.as_str() {
            "crate" => Vec::new(),
            "super" => here[..here.len().saturating_sub(1)].to_vec(),
            _ => here.clone(),
        };
        let mut k = j + 2;
        while let Some((seg, e)) = ident_at(b, k) {
            if seg != "super" || b.get(e..e + 2) != Some(b"::") {
                break;
            }
            base.pop();
            k = e + 2;
        }
        let mut found = Vec::new();
        i = parse_tree(b, k, &base, &mut found);
        out.extend(found);
        if i <= j {
            i = j;
        }
    }
    out
}

/// The non-test source files under `dir`, with their module paths.
fn sources(root: &Path) -> BTreeMap<ModPath, String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let module_of = |p: &PathBuf| -> ModPath {
        let rel = p.strip_prefix(root).unwrap().with_extension("");
        let mut m: ModPath = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if m.last().is_some_and(|l| l == "mod") {
            m.pop();
        }
        m
    };
    let mut code = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for p in &files {
        let m = module_of(p);
        // The crate roots and the binaries are not modules of the library.
        if matches!(m.first().map(String::as_str), Some("lib" | "main" | "bin")) {
            continue;
        }
        let (text, tests) = without_test_code(&strip(&std::fs::read_to_string(p).unwrap()));
        for t in tests {
            let mut tm = m.clone();
            tm.push(t);
            test_only.insert(tm);
        }
        code.insert(m, text);
    }
    code.retain(|m, _| !test_only.iter().any(|t| m.starts_with(t)));
    code
}

/// Edges between sibling modules: (parent, from, to).
fn edges(code: &BTreeMap<ModPath, String>) -> BTreeSet<(ModPath, String, String)> {
    let modules: BTreeSet<&ModPath> = code.keys().collect();
    let mut out = BTreeSet::new();
    for (from, text) in code {
        for to in paths(text, from) {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            let (Some(a), Some(b)) = (from.get(common), to.get(common)) else {
                continue;
            };
            // Only modules count, not items of the common parent.
            if modules.contains(&to[..=common].to_vec()) {
                out.insert((from[..common].to_vec(), a.clone(), b.clone()));
            }
        }
    }
    out
}

/// A cycle among siblings, as a list of module names, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n) {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn src_graph() -> BTreeSet<(ModPath, String, String)> {
    edges(&sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")))
}

fn uses(g: &BTreeSet<(ModPath, String, String)>, parent: &[&str], from: &str) -> Vec<String> {
    g.iter()
        .filter(|(p, f, _)| p == parent && f == from)
        .map(|(_, _, t)| t.clone())
        .collect()
}

/// Known cycles outside the packet path, waiting for their owners: an edge
/// (parent, from, to) to leave out. Each must still exist, so that the list
/// only shrinks.
const KNOWN: &[(&[&str], &str, &str)] = &[];

#[test]
fn no_module_uses_a_sibling_that_uses_it_back() {
    let mut g = src_graph();
    for &(parent, from, to) in KNOWN {
        let e = (
            parent.iter().map(|s| s.to_string()).collect::<ModPath>(),
            from.to_string(),
            to.to_string(),
        );
        assert!(
            g.remove(&e),
            "crate::{}: {from} no longer uses {to}: remove it from KNOWN",
            parent.join("::")
        );
    }
    let mut by_parent: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (p, a, b) in &g {
        by_parent
            .entry(p.clone())
            .or_default()
            .entry(a.clone())
            .or_default()
            .insert(b.clone());
    }
    assert!(
        by_parent.get(&Vec::new()).is_some_and(|g| g.len() > 5),
        "the scan found the top-level modules: {by_parent:?}"
    );
    for (parent, graph) in &by_parent {
        if let Some(c) = find_cycle(graph) {
            panic!(
                "import cycle in crate::{}: {}",
                parent.join("::"),
                c.join(" -> ")
            );
        }
    }
}

#[test]
fn the_packet_path_layers() {
    let g = src_graph();
    let top = uses(&g, &[], "datapath");
    for m in &top {
        assert!(
            ["nfd", "ports", "fp", "pkt", "maps", "logging", "counters"].contains(&m.as_str()),
            "datapath uses {m}"
        );
    }
    // The counter surface is a leaf every block may implement.
    assert!(uses(&g, &[], "counters").is_empty());
    assert!(top.contains(&"nfd".to_string()) && top.contains(&"ports".to_string()));
    assert!(!uses(&g, &[], "nfd").contains(&"datapath".to_string()));
    for m in uses(&g, &[], "ports") {
        assert!(!["datapath", "nfd"].contains(&m.as_str()), "ports uses {m}");
    }
    // Within NFD the register map is a leaf and the data path does not
    // reach back into the control plane.
    assert!(uses(&g, &["nfd"], "ctrl").is_empty());
    assert!(!uses(&g, &["nfd"], "rings").contains(&"vnic".to_string()));
    assert!(uses(&g, &["nfd"], "vnic").contains(&"rings".to_string()));
}

#[test]
fn the_scanner_reads_use_trees_and_skips_comments_and_tests() {
    let here: ModPath = vec!["nfd".into(), "rings".into()];
    let code = strip(
        "use super::{ctrl::{A, B}, qc::*};\nuse crate::pkt;\n// use crate::datapath;\n\
         let s = \"crate::maps\"; let c = '\"'; x = super::super::dma::read(); self::tx::f();",
    );
    let got = paths(&code, &here);
    let want: Vec<ModPath> = [
        &["nfd", "ctrl", "A"][..],
        &["nfd", "ctrl", "B"],
        &["nfd", "qc"],
        &["pkt"],
        &["dma", "read"],
        &["nfd", "rings", "tx", "f"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(got, want);
    let (rest, mods) = without_test_code(
        "use crate::a;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod inline { use crate::b; }\nuse crate::c;",
    );
    assert_eq!(mods, ["tests"]);
    assert!(rest.contains("crate::a") && rest.contains("crate::c") && !rest.contains("crate::b"));
}
