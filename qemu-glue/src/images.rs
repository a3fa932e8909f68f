//! Where the images built by `images/build` live.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "NFP_EMU_CACHE";

/// The cached host tool root and guest image.
#[derive(Clone, Debug)]
pub struct Images {
    pub cache: PathBuf,
}

impl Images {
    /// `$NFP_EMU_CACHE`, else `$XDG_CACHE_HOME/nfp-emu`, else
    /// `$HOME/.cache/nfp-emu` (the same rule as `images/build`).
    pub fn default_cache() -> PathBuf {
        if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                    .join(".cache")
            });
        base.join("nfp-emu")
    }

    pub fn new(cache: Option<PathBuf>) -> Self {
        Self {
            cache: cache.unwrap_or_else(Self::default_cache),
        }
    }

    /// Debian trixie root holding QEMU from trixie-backports.
    pub fn host_root(&self) -> PathBuf {
        self.cache.join("host-root")
    }

    /// Directory with `vmlinux` (the kernel nfp-vm boots, through its PVH
    /// entry), `vmlinuz`, `initrd.img` and `rootfs.ext4`.
    pub fn guest_dir(&self) -> PathBuf {
        self.cache.join("guest")
    }

    /// QEMU's path inside the host root.
    pub fn qemu_in_root(&self) -> &'static str {
        "/usr/bin/qemu-system-x86_64"
    }

    /// Fail with a message that says how to build what is missing.
    pub fn check(&self) -> anyhow::Result<()> {
        let need: [(PathBuf, &str); 4] = [
            (
                self.host_root()
                    .join(self.qemu_in_root().trim_start_matches('/')),
                "host tool root (QEMU)",
            ),
            (self.guest_dir().join("vmlinux"), "guest kernel (vmlinux)"),
            (self.guest_dir().join("initrd.img"), "guest initramfs"),
            (
                self.guest_dir().join("rootfs.ext4"),
                "guest root file system",
            ),
        ];
        for (path, what) in need {
            if !exists(&path) {
                bail!(
                    "{what} not found at {}; build the images with `images/build` \
                     (cache directory {}, set {CACHE_ENV} to change it)",
                    path.display(),
                    self.cache.display()
                );
            }
        }
        Ok(())
    }
}

fn exists(p: &Path) -> bool {
    p.symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_missing_piece_and_the_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let images = Images::new(Some(dir.path().to_path_buf()));
        let err = images.check().unwrap_err().to_string();
        assert!(err.contains("host tool root"), "{err}");
        assert!(err.contains("images/build"), "{err}");
    }
}
