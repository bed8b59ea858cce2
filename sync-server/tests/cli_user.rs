//! `balade-sync user add` on the real binary: an account is stored with an argon2 hash (never the
//! password), and bad input gets a French message, a non-zero exit and no row.

use std::io::Write;
use std::process::{Command, Stdio};

fn user_add(data: &std::path::Path, password: &str, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_balade-sync"))
        .arg("--data")
        .arg(data)
        .args(["user", "add", "--password-stdin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("balade-sync starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stored_logins(data: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data.join("balade.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT login, password_hash FROM console_users ORDER BY login")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn user_add_stores_an_argon2_hash_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let ok = user_add(
        dir.path(),
        "mot-de-passe-sûr\n",
        &[
            "--login",
            "marie",
            "--role",
            "operator",
            "--service",
            "voirie",
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let users = stored_logins(dir.path());
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].0, "marie");
    assert!(users[0].1.starts_with("$argon2"), "hash: {}", users[0].1);
    assert!(!users[0].1.contains("mot-de-passe"));

    for (password, args) in [
        ("court\n", vec!["--login", "paul", "--role", "admin"]),
        (
            "assez-long-mdp\n",
            vec![
                "--login",
                "paul",
                "--role",
                "operator",
                "--service",
                "inconnu",
            ],
        ),
        (
            "assez-long-mdp\n",
            vec!["--login", "paul", "--role", "operator"],
        ),
        (
            "assez-long-mdp\n",
            vec!["--login", "paul", "--role", "chef"],
        ),
        (
            "assez-long-mdp\n",
            vec!["--login", "paul avec espace", "--role", "admin"],
        ),
    ] {
        let out = user_add(dir.path(), password, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("non enregistré"), "{args:?}: {stderr}");
        assert_eq!(
            stored_logins(dir.path()).len(),
            1,
            "{args:?} stored something"
        );
    }
}
