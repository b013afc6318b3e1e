//! A private desktop session for tests on Linux: a virtual X display (Xvfb), its own D-Bus
//! session bus with an unlocked gnome-keyring (the real Secret Service) and a dunst
//! notification daemon, all torn down when the command ends. Tests never touch the
//! developer's own display, keyring or notifications.

use std::process::Command;

/// Runs inside `dbus-run-session`: start the services, wait until they own their bus names,
/// run the command, then stop the services by PID (they would outlive the bus otherwise).
const SCRIPT: &str = r#"
set -u
# The keyring's files live in a fresh directory: an existing login keyring with another
# password would make every write wait for a prompt nobody can answer.
keyring_home=$(mktemp -d)
printf '%s' "$TEAMLINE_TEST_KEYRING_PASSWORD" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
keyring=$!
dunst -config /dev/null >/dev/null 2>&1 &
notifier=$!
trap 'kill $keyring $notifier 2>/dev/null; rm -rf "$keyring_home"' EXIT
has_owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
for name in org.freedesktop.secrets org.freedesktop.Notifications; do
  tries=0
  until has_owner "$name"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ]; then echo "xtask: $name did not appear on the session bus" >&2; exit 1; fi
    sleep 0.05
  done
done
"$@"
"#;

/// Wraps `program args…` so it runs inside a private session on Linux; elsewhere the OS's
/// own display, keyring and notification centre are used and the command runs as it is.
pub fn wrap(program: &str, args: &[&str]) -> Command {
    if cfg!(target_os = "linux") {
        // dunst needs the display, so Xvfb comes first and the bus lives inside it.
        let mut command = Command::new("xvfb-run");
        command
            .args(["--auto-servernum", "--server-args=-screen 0 1400x900x24"])
            .args([
                "dbus-run-session",
                "--",
                "sh",
                "-c",
                SCRIPT,
                "teamline-session",
                program,
            ])
            .args(args)
            // A throwaway keyring for a throwaway session; not a secret.
            .env("TEAMLINE_TEST_KEYRING_PASSWORD", "teamline-test-session");
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}
