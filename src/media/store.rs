//! Where media files are kept: a local folder (`NEWSDESK_MEDIA_DIR`).
//! Keys are relative paths made by [`super::master_key`] and
//! [`super::rendition_key`], never by a client.

use std::path::{Path, PathBuf};

use crate::error::AppError;

/// An object store of media files.
#[derive(Debug, Clone)]
pub enum MediaStore {
    /// Files under a folder; written to a temporary name, then renamed, so
    /// a reader never sees half a file.
    Folder(PathBuf),
}

impl MediaStore {
    pub fn folder(path: impl Into<PathBuf>) -> MediaStore {
        MediaStore::Folder(path.into())
    }

    /// Keeps `bytes` under `key`.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), AppError> {
        match self {
            MediaStore::Folder(root) => {
                let path = path_of(root, key)?;
                blocking(move || write_atomically(&path, &bytes)).await
            }
        }
    }

    /// The bytes under `key`, or `None`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        match self {
            MediaStore::Folder(root) => {
                let path = path_of(root, key)?;
                blocking(move || match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                })
                .await
            }
        }
    }
}

fn path_of(root: &Path, key: &str) -> Result<PathBuf, AppError> {
    let safe = key
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !safe {
        return Err(AppError::Internal(format!("media key {key:?}")));
    }
    Ok(root.join(key))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("media store: {e}")))?
        .map_err(|e| AppError::Internal(format!("media store: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_kept_and_read_back_and_keys_stay_inside() {
        let dir = tempfile::tempdir().expect("folder");
        let store = MediaStore::folder(dir.path());
        assert_eq!(store.get("masters/a").await.expect("read"), None);
        store
            .put("masters/a", b"x".to_vec())
            .await
            .expect("written");
        assert_eq!(
            store.get("masters/a").await.expect("read"),
            Some(b"x".to_vec())
        );
        for bad in ["../x", "masters/../../x", "/etc/passwd", "a//b"] {
            assert!(store.get(bad).await.is_err(), "{bad}");
        }
    }
}
