//! Password and PIN hashing with argon2id, off the async executor.
//!
//! Each hash or check needs 19 MiB of working memory. Allocating and freeing
//! that on tokio's blocking threads fragments the allocator's per-thread
//! arenas: a server that had just hashed twenty passwords held over 200 MB it
//! no longer used. So hashing runs on a fixed pool of threads, one per core,
//! each reusing one buffer for every hash: the memory is bounded (19 MiB a
//! core) and allocated once, and a burst of sign-ins queues for a core instead
//! of thrashing.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock, Mutex, mpsc};

use argon2::password_hash::{
    Output, PasswordHash, SaltString, errors::Error as PhcError, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{AppError, AppResult};

type Job = Box<dyn FnOnce() + Send>;

static POOL: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    for i in 0..threads {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking job loses only its own answer, not the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                }
            })
            .expect("start a hashing thread");
    }
    tx
});

thread_local! {
    /// This pool thread's argon2 working memory, grown once and reused.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the hashing pool and waits for it without blocking the executor.
async fn on_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    POOL.send(Box::new(move || {
        let _ = tx.send(f());
    }))
    .map_err(|_| AppError::Internal(anyhow::anyhow!("the hashing pool has stopped")))?;
    rx.await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a hashing job was lost")))
}

/// The raw argon2 output of `password` under `argon`, `salt`, in this
/// thread's reused working memory.
fn compute(argon: &Argon2, password: &[u8], salt: &[u8], len: usize) -> Result<Output, PhcError> {
    let need = argon.params().block_count();
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < need {
            blocks.resize(need, Block::default());
        }
        Output::init_with(len, |out| {
            argon
                .hash_password_into_with_memory(password, salt, out, &mut blocks[..need])
                .map_err(PhcError::from)
        })
    })
}

fn hash_now(password: &[u8]) -> Result<String, PhcError> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let mut buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut buf)?;
    let len = argon
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon, password, salt_bytes, len)?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon.params().try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

fn verify_now(password: &[u8], hash: &str) -> Result<bool, PhcError> {
    let h = PasswordHash::new(hash)?;
    let expected = h.hash.ok_or(PhcError::Password)?;
    let salt = h.salt.ok_or(PhcError::Password)?;
    let params = Params::try_from(&h)?;
    let algorithm = Algorithm::try_from(h.algorithm)?;
    let version = h
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let argon = Argon2::new(algorithm, version, params);
    let mut buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut buf)?;
    let output = compute(&argon, password, salt_bytes, expected.len())?;
    // `Output` compares in constant time.
    Ok(output == expected)
}

pub async fn hash(password: String) -> AppResult<String> {
    on_pool(move || {
        hash_now(password.as_bytes())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await?
}

pub async fn verify(password: String, hash: String) -> bool {
    on_pool(move || verify_now(password.as_bytes(), &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

/// A hash of nothing, verified against on unknown logins so that timing does
/// not reveal which logins exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2xfW2yHGQ8ZcV0Zs9vPZ5J4D8OPx9YqVvjbfyWh0j2s";

/// Checks a new secret: a 6-digit PIN for learners who choose one, or a
/// password of at least 8 characters.
pub fn check_strength(secret: &str, pin: bool) -> Result<(), String> {
    if pin {
        if secret.len() == 6 && secret.bytes().all(|b| b.is_ascii_digit()) {
            if secret.bytes().all(|b| b == secret.as_bytes()[0])
                || "0123456789".contains(secret)
                || "9876543210".contains(secret)
            {
                return Err(crate::localize::Msg::new("acct.err.pin_easy").english());
            }
            return Ok(());
        }
        return Err(crate::localize::Msg::new("acct.err.pin_digits").english());
    }
    let n = secret.chars().count();
    if n < 8 {
        return Err("must be at least 8 characters".into());
    }
    if n > 128 {
        return Err("must be at most 128 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let ours = hash_now(b"fuzhi-demo-2026").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The argon2 crate's own verifier accepts ours, and we accept its.
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"fuzhi-demo-2026", &parsed)
                .is_ok()
        );
        assert!(verify_now(b"fuzhi-demo-2026", &ours).unwrap());
        assert!(!verify_now(b"fuzhi-demo-2027", &ours).unwrap());
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"246810", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_now(b"246810", &theirs).unwrap());
        assert!(!verify_now(b"246811", &theirs).unwrap());
        assert!(!verify_now(b"x", "not a hash").unwrap_or(false));
    }
}
