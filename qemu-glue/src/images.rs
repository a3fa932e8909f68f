//! Where the images built by `images/build` live.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "NFP_EMU_CACHE";

/// Environment variable that picks the guest kernel variant (as `--kernel`;
/// the same variable `images/build` reads).
pub const KERNEL_ENV: &str = "NFP_EMU_KERNEL";

/// The default guest kernel: Debian trixie's, the image in `$CACHE/guest`.
pub const DEFAULT_KERNEL: &str = "trixie";

/// The cached host tool root and guest image.
#[derive(Clone, Debug)]
pub struct Images {
    /// The cache directory `images/build` filled.
    pub cache: PathBuf,
    /// Guest kernel variant (`images/build --kernel`); `None` or
    /// [`DEFAULT_KERNEL`] is the default guest.
    pub kernel: Option<String>,
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

    /// The images of `cache` (default [`Images::default_cache`]) with the
    /// default guest kernel.
    pub fn new(cache: Option<PathBuf>) -> Self {
        Self {
            cache: cache.unwrap_or_else(Self::default_cache),
            kernel: None,
        }
    }

    /// The same images with the guest of kernel variant `kernel`
    /// (`images/build --kernel NAME`: trixie, bookworm, trixie-backports);
    /// `None` falls back to `$NFP_EMU_KERNEL`, then to the default guest.
    /// A name that is not a plain word (letters, digits, `-`) is refused.
    pub fn with_kernel(mut self, kernel: Option<String>) -> anyhow::Result<Self> {
        let kernel = kernel.or_else(|| std::env::var(KERNEL_ENV).ok().filter(|k| !k.is_empty()));
        if let Some(k) = &kernel {
            if k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                bail!("kernel variant '{k}' is not a name like bookworm or trixie-backports");
            }
        }
        self.kernel = kernel.filter(|k| k != DEFAULT_KERNEL);
        Ok(self)
    }

    /// Debian trixie root holding QEMU from trixie-backports.
    pub fn host_root(&self) -> PathBuf {
        self.cache.join("host-root")
    }

    /// Directory with `vmlinux` (the kernel nfp-vm boots, through its PVH
    /// entry), `vmlinuz`, `initrd.img` and `rootfs.ext4`: `$CACHE/guest`
    /// for the default kernel, `$CACHE/kernels/NAME/guest` for a variant.
    pub fn guest_dir(&self) -> PathBuf {
        match &self.kernel {
            None => self.cache.join("guest"),
            Some(k) => self.cache.join("kernels").join(k).join("guest"),
        }
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
        let build = match &self.kernel {
            None => "images/build".to_owned(),
            Some(k) => format!("images/build --kernel {k} guest"),
        };
        for (path, what) in need {
            if !exists(&path) {
                bail!(
                    "{what} not found at {}; build the images with `{build}` \
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

    #[test]
    fn kernel_variant_has_its_own_guest_dir() {
        let cache = PathBuf::from("/c");
        let default = Images::new(Some(cache.clone()));
        assert_eq!(default.guest_dir(), cache.join("guest"));
        let trixie = Images::new(Some(cache.clone()))
            .with_kernel(Some(DEFAULT_KERNEL.into()))
            .unwrap();
        assert_eq!(trixie.guest_dir(), cache.join("guest"));
        let old = Images::new(Some(cache.clone()))
            .with_kernel(Some("bookworm".into()))
            .unwrap();
        assert_eq!(old.guest_dir(), cache.join("kernels/bookworm/guest"));
        assert!(
            Images::new(Some(cache.clone()))
                .with_kernel(Some("../x".into()))
                .is_err()
        );
    }

    #[test]
    fn missing_variant_names_its_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let images = Images::new(Some(dir.path().to_path_buf()))
            .with_kernel(Some("bookworm".into()))
            .unwrap();
        std::fs::create_dir_all(dir.path().join("host-root/usr/bin")).unwrap();
        std::fs::write(dir.path().join("host-root/usr/bin/qemu-system-x86_64"), b"").unwrap();
        let err = images.check().unwrap_err().to_string();
        assert!(err.contains("--kernel bookworm"), "{err}");
        assert!(err.contains("kernels/bookworm/guest"), "{err}");
    }
}
