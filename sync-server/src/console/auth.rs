//! Operator accounts, password checks, sessions, CSRF tokens and login throttling.
//!
//! Everything here is plain synchronous SQLite code on a `&Connection`, so the HTTP handlers
//! run it through the store's blocking thread and the CLI (`balade-sync user add`) calls it
//! directly. Only SHA-256 digests of session cookies are stored; passwords are argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "balade_session";
/// Name of the pre-login CSRF cookie (double-submit on the login form).
pub const LOGIN_CSRF_COOKIE: &str = "balade_login_csrf";
/// How long a session lasts without logging in again.
pub const SESSION_HOURS: i64 = 12;
/// Failed attempts on one account within [`THROTTLE_WINDOW_MINUTES`] before it is locked.
pub const MAX_FAILURES_PER_LOGIN: i64 = 5;
/// Failed attempts from one IP address within the window before it is locked.
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// The address recorded when the server does not know the peer's (no connect info).
pub const UNKNOWN_IP: &str = "unknown";

/// Errors of the console's library code.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("unknown role {0:?} (admin or operator)")]
    UnknownRole(String),
    #[error("login must be 1 to 64 letters, digits, '.', '-' or '_': {0:?}")]
    InvalidLogin(String),
    #[error("password must be at least 8 characters")]
    WeakPassword,
    #[error("an operator needs at least one --service")]
    OperatorWithoutService,
    #[error("unknown service {0:?}")]
    UnknownService(String),
    #[error("login {0:?} already exists")]
    LoginTaken(String),
    #[error("no such account")]
    NoSuchUser,
}

impl ConsoleError {
    /// The message shown to an admin in the console (French).
    pub fn message_fr(&self) -> String {
        match self {
            ConsoleError::Db(_) | ConsoleError::Hash(_) => "Erreur interne du serveur.".into(),
            ConsoleError::UnknownRole(role) => {
                format!("Rôle inconnu « {role} » (admin ou operator)")
            }
            ConsoleError::InvalidLogin(_) => {
                "Identifiant invalide : 1 à 64 lettres, chiffres, « . », « - » ou « _ »".into()
            }
            ConsoleError::WeakPassword => {
                "Le mot de passe doit compter au moins 8 caractères".into()
            }
            ConsoleError::OperatorWithoutService => {
                "Un opérateur doit avoir au moins un service".into()
            }
            ConsoleError::UnknownService(code) => format!("Service inconnu « {code} »"),
            ConsoleError::LoginTaken(login) => format!("L'identifiant « {login} » existe déjà"),
            ConsoleError::NoSuchUser => "Compte introuvable".into(),
        }
    }
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sees and acts on everything, manages rules, templates and recipients.
    Admin,
    /// Sees and acts on the requests routed to their services (and unrouted ones).
    Operator,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }

    pub fn parse(code: &str) -> Result<Role, ConsoleError> {
        match code {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            other => Err(ConsoleError::UnknownRole(other.to_string())),
        }
    }
}

/// The logged-in user of a request, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// Services an operator is scoped to (empty for an admin: everything).
    pub services: Vec<String>,
    pub csrf_token: String,
}

impl ConsoleUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Name used in the audit trail.
    pub fn actor(&self) -> String {
        format!("console:{}", self.login)
    }
}

fn now_text(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A fresh random token, 32 bytes as lower-case hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets without stopping at the first differing byte.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| ConsoleError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ConsoleError::Hash(e.to_string()))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `balade-sync user add --login L --password-stdin --role admin|operator [--service CODE]...`:
/// creates the user, or replaces the password, role and services of an existing one.
/// `known_services` are the service and outside-body codes the taxonomy knows (checked).
pub fn cli_user(
    conn: &Connection,
    login: &str,
    password: &str,
    role: &str,
    services: &[String],
    known_services: &[String],
) -> Result<(), ConsoleError> {
    let role = validate_account(login, password, role, services, known_services)?;
    upsert_user(conn, login, password, role, services)
}

/// The checks of a new account, shared by [`cli_user`] and [`create_user`] (the console).
fn validate_account(
    login: &str,
    password: &str,
    role: &str,
    services: &[String],
    known_services: &[String],
) -> Result<Role, ConsoleError> {
    let role = Role::parse(role)?;
    if !valid_login(login) {
        return Err(ConsoleError::InvalidLogin(login.to_string()));
    }
    if password.chars().count() < 8 {
        return Err(ConsoleError::WeakPassword);
    }
    check_services(role, services, known_services)?;
    Ok(role)
}

fn check_services(
    role: Role,
    services: &[String],
    known_services: &[String],
) -> Result<(), ConsoleError> {
    if role == Role::Operator && services.is_empty() {
        return Err(ConsoleError::OperatorWithoutService);
    }
    for service in services {
        if !known_services.contains(service) {
            return Err(ConsoleError::UnknownService(service.clone()));
        }
    }
    Ok(())
}

/// Creates an account from the admin page: the same checks as [`cli_user`], but an existing
/// login is refused instead of being replaced.
pub fn create_user(
    conn: &Connection,
    login: &str,
    password: &str,
    role: &str,
    services: &[String],
    known_services: &[String],
) -> Result<(), ConsoleError> {
    let role = validate_account(login, password, role, services, known_services)?;
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM console_users WHERE login = ?1)",
        [login],
        |r| r.get(0),
    )?;
    if exists {
        return Err(ConsoleError::LoginTaken(login.to_string()));
    }
    upsert_user(conn, login, password, role, services)
}

/// An account as the admin page lists it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub disabled: bool,
    pub services: Vec<String>,
}

/// Every account, by login, with its services.
pub fn list_users(conn: &Connection) -> Result<Vec<Account>, ConsoleError> {
    let mut statement = conn.prepare(
        "SELECT u.id, u.login, u.role, u.disabled, group_concat(s.service_code, ',')
         FROM console_users u LEFT JOIN console_user_services s ON s.user_id = u.id
         GROUP BY u.id ORDER BY u.login",
    )?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, login, role, disabled, services)| {
            let mut services: Vec<String> = services
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            services.sort();
            Ok(Account {
                id,
                login,
                role: Role::parse(&role)?,
                disabled,
                services,
            })
        })
        .collect()
}

fn account_role(conn: &Connection, user_id: i64) -> Result<Role, ConsoleError> {
    let role: Option<String> = conn
        .query_row(
            "SELECT role FROM console_users WHERE id = ?1",
            [user_id],
            |r| r.get(0),
        )
        .optional()?;
    Role::parse(&role.ok_or(ConsoleError::NoSuchUser)?)
}

/// The account's services become exactly `services`.
fn replace_services(conn: &Connection, user_id: i64, services: &[String]) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM console_user_services WHERE user_id = ?1",
        [user_id],
    )?;
    for service in services {
        conn.execute(
            "INSERT OR IGNORE INTO console_user_services (user_id, service_code) VALUES (?1, ?2)",
            params![user_id, service],
        )?;
    }
    Ok(())
}

/// Replaces the services of an account (an operator keeps at least one).
pub fn set_user_services(
    conn: &Connection,
    user_id: i64,
    services: &[String],
    known_services: &[String],
) -> Result<(), ConsoleError> {
    let role = account_role(conn, user_id)?;
    check_services(role, services, known_services)?;
    let tx = Nested::begin(conn)?;
    replace_services(&tx, user_id, services)?;
    tx.commit()?;
    Ok(())
}

/// Disables or enables an account. A disabled account cannot log in and its sessions end now.
pub fn set_user_disabled(
    conn: &Connection,
    user_id: i64,
    disabled: bool,
) -> Result<(), ConsoleError> {
    account_role(conn, user_id)?;
    let tx = Nested::begin(conn)?;
    tx.execute(
        "UPDATE console_users SET disabled = ?2 WHERE id = ?1",
        params![user_id, disabled],
    )?;
    if disabled {
        tx.execute("DELETE FROM console_sessions WHERE user_id = ?1", [user_id])?;
    }
    tx.commit()?;
    Ok(())
}

/// A savepoint: its own transaction when none is open, nested inside a caller's otherwise
/// (so an admin page's change and its audit row commit together). Rolled back unless
/// [`Nested::commit`] is called.
struct Nested<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Nested<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        conn.execute_batch("SAVEPOINT console_account_change")?;
        Ok(Nested { conn, done: false })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE console_account_change")
    }
}

impl std::ops::Deref for Nested<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch(
                "ROLLBACK TO console_account_change; RELEASE console_account_change",
            );
        }
    }
}

fn upsert_user(
    conn: &Connection,
    login: &str,
    password: &str,
    role: Role,
    services: &[String],
) -> Result<(), ConsoleError> {
    let hash = hash_password(password)?;
    let tx = Nested::begin(conn)?;
    tx.execute(
        "INSERT INTO console_users (login, password_hash, role, display_name, created_at)
         VALUES (?1, ?2, ?3, ?1, ?4)
         ON CONFLICT(login) DO UPDATE SET password_hash = ?2, role = ?3, disabled = 0",
        params![login, hash, role.code(), now_text(Utc::now())],
    )?;
    let user_id: i64 = tx.query_row(
        "SELECT id FROM console_users WHERE login = ?1",
        [login],
        |r| r.get(0),
    )?;
    replace_services(&tx, user_id, services)?;
    tx.commit()?;
    Ok(())
}

/// For `serve --demo`: makes sure an `admin` account with password `admin` exists.
/// Returns true when it created it (the caller prints the demo credentials).
pub fn ensure_demo_admin(conn: &Connection) -> Result<bool, ConsoleError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM console_users WHERE login = 'admin')",
        [],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(false);
    }
    upsert_user(conn, "admin", "admin", Role::Admin, &[])?;
    Ok(true)
}

/// Why a login was refused. The page says the same thing for a wrong login and a wrong
/// password, and a locked account reads differently only once the lock is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    WrongCredentials,
    Throttled,
}

/// Checks a password, with throttling per account and per IP; records the attempt; on success
/// opens a session and returns its cookie token.
pub fn login(
    conn: &Connection,
    login: &str,
    password: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Result<String, LoginRefusal>, ConsoleError> {
    let since = now_text(now - Duration::minutes(THROTTLE_WINDOW_MINUTES));
    let failures_login: i64 = conn.query_row(
        "SELECT COUNT(*) FROM console_login_attempts WHERE login = ?1 AND at > ?2 AND success = 0",
        params![login, since],
        |r| r.get(0),
    )?;
    let failures_ip: i64 = conn.query_row(
        "SELECT COUNT(*) FROM console_login_attempts WHERE ip = ?1 AND at > ?2 AND success = 0",
        params![ip, since],
        |r| r.get(0),
    )?;
    let record = |success: bool| {
        conn.execute(
            "INSERT INTO console_login_attempts (login, ip, at, success) VALUES (?1, ?2, ?3, ?4)",
            params![login, ip, now_text(now), success],
        )
    };
    // Without a known peer address (server started without connect info) every client would
    // share one bucket and 20 failures would lock everybody out: only the per-account limit applies.
    let ip_locked = ip != UNKNOWN_IP && failures_ip >= MAX_FAILURES_PER_IP;
    if failures_login >= MAX_FAILURES_PER_LOGIN || ip_locked {
        record(false)?;
        return Ok(Err(LoginRefusal::Throttled));
    }
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, password_hash FROM console_users WHERE login = ?1 AND disabled = 0",
            [login],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let user_id = match row {
        Some((id, hash)) if verify_password(password, &hash) => id,
        _ => {
            record(false)?;
            return Ok(Err(LoginRefusal::WrongCredentials));
        }
    };
    record(true)?;
    // Housekeeping: expired sessions and attempts older than a day are no longer needed.
    conn.execute(
        "DELETE FROM console_sessions WHERE expires_at <= ?1",
        [now_text(now)],
    )?;
    conn.execute(
        "DELETE FROM console_login_attempts WHERE at < ?1",
        [now_text(now - Duration::days(1))],
    )?;
    let token = random_token();
    conn.execute(
        "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            token_hash(&token),
            user_id,
            random_token(),
            now_text(now),
            now_text(now + Duration::hours(SESSION_HOURS))
        ],
    )?;
    Ok(Ok(token))
}

/// The user behind a session cookie, if the session exists and has not expired.
pub fn session_user(
    conn: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<ConsoleUser>, ConsoleError> {
    let row = conn
        .query_row(
            "SELECT u.id, u.login, u.display_name, u.role, s.csrf_token
             FROM console_sessions s JOIN console_users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
            params![token_hash(token), now_text(now)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((id, login, display_name, role, csrf_token)) = row else {
        return Ok(None);
    };
    let mut statement = conn.prepare_cached(
        "SELECT service_code FROM console_user_services WHERE user_id = ?1 ORDER BY 1",
    )?;
    let services = statement
        .query_map([id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(ConsoleUser {
        id,
        login,
        display_name,
        role: Role::parse(&role)?,
        services,
        csrf_token,
    }))
}

/// Ends a session (logout).
pub fn logout(conn: &Connection, token: &str) -> Result<(), ConsoleError> {
    conn.execute(
        "DELETE FROM console_sessions WHERE token_hash = ?1",
        [token_hash(token)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations()
            .unwrap()
            .to_latest(&mut conn)
            .unwrap();
        conn
    }

    #[test]
    fn login_opens_a_session_and_wrong_passwords_are_throttled() {
        let conn = conn();
        let known = vec!["voirie".to_string()];
        cli_user(&conn, "marie", "correct horse", "operator", &known, &known).unwrap();
        let now = Utc::now();
        let token = login(&conn, "marie", "correct horse", "1.2.3.4", now)
            .unwrap()
            .unwrap();
        let user = session_user(&conn, &token, now).unwrap().unwrap();
        assert_eq!(
            (user.role, user.services.as_slice()),
            (Role::Operator, known.as_slice())
        );
        assert!(
            session_user(&conn, &token, now + Duration::hours(SESSION_HOURS + 1))
                .unwrap()
                .is_none()
        );
        for _ in 0..MAX_FAILURES_PER_LOGIN {
            assert_eq!(
                login(&conn, "marie", "nope", "1.2.3.4", now).unwrap(),
                Err(LoginRefusal::WrongCredentials)
            );
        }
        // Locked now, even with the right password; open again after the window.
        assert_eq!(
            login(&conn, "marie", "correct horse", "1.2.3.4", now).unwrap(),
            Err(LoginRefusal::Throttled)
        );
        let later = now + Duration::minutes(THROTTLE_WINDOW_MINUTES + 1);
        assert!(
            login(&conn, "marie", "correct horse", "1.2.3.4", later)
                .unwrap()
                .is_ok()
        );
        logout(&conn, &token).unwrap();
        assert!(session_user(&conn, &token, now).unwrap().is_none());
    }

    #[test]
    fn cli_user_checks_its_input() {
        let conn = conn();
        let known = vec!["voirie".to_string()];
        for (login, password, role, services, ok) in [
            ("a", "longenough", "admin", vec![], true),
            ("a b", "longenough", "admin", vec![], false),
            ("b", "short", "admin", vec![], false),
            ("c", "longenough", "boss", vec![], false),
            ("d", "longenough", "operator", vec![], false),
            (
                "e",
                "longenough",
                "operator",
                vec!["nowhere".to_string()],
                false,
            ),
        ] {
            assert_eq!(
                cli_user(&conn, login, password, role, &services, &known).is_ok(),
                ok,
                "{login}"
            );
        }
        assert!(ensure_demo_admin(&conn).unwrap());
        assert!(!ensure_demo_admin(&conn).unwrap());
    }
}
