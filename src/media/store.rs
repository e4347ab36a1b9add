//! Where media files are kept: a local folder (`NEWSDESK_MEDIA_DIR`), or
//! an S3-compatible bucket (`NEWSDESK_MEDIA_URL=s3://…`, through the
//! `object_store` crate) that several nodes share. Keys are relative paths
//! made by [`super::master_key`] and [`super::rendition_key`], never by a
//! client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::{ObjectStore, PutPayload};

use crate::config::S3Media;
use crate::error::AppError;

/// An object store of media files.
#[derive(Debug, Clone)]
pub enum MediaStore {
    /// Files under a folder; written to a temporary name, then renamed, so
    /// a reader never sees half a file.
    Folder(PathBuf),
    /// Objects in a bucket (an object appears whole or not at all).
    Bucket(Arc<dyn ObjectStore>),
}

impl MediaStore {
    pub fn folder(path: impl Into<PathBuf>) -> MediaStore {
        MediaStore::Folder(path.into())
    }

    /// The store `s3` names.
    pub fn bucket(s3: &S3Media) -> Result<MediaStore, String> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_allow_http(s3.allow_http);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&s3.key_id, &s3.secret) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| e.to_string())?;
        Ok(if s3.prefix.is_empty() {
            MediaStore::Bucket(Arc::new(store))
        } else {
            MediaStore::Bucket(Arc::new(object_store::prefix::PrefixStore::new(
                store,
                s3.prefix.as_str(),
            )))
        })
    }

    /// Keeps `bytes` under `key`.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), AppError> {
        match self {
            MediaStore::Folder(root) => {
                let path = path_of(root, key)?;
                blocking(move || write_atomically(&path, &bytes)).await
            }
            MediaStore::Bucket(store) => {
                path_of(Path::new(""), key)?;
                store
                    .put(
                        &object_store::path::Path::from(key),
                        PutPayload::from(bytes),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| AppError::Internal(format!("media store: {e}")))
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
            MediaStore::Bucket(store) => {
                path_of(Path::new(""), key)?;
                let found = store.get(&object_store::path::Path::from(key)).await;
                let read = match found {
                    Ok(object) => object.bytes().await.map(|b| Some(b.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                };
                read.map_err(|e| AppError::Internal(format!("media store: {e}")))
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
