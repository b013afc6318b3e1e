//! Opening a link from a message in the user's browser. Only `http` and `https` URLs
//! without spaces or control characters are passed on, as one argument to the OS opener
//! (never through a shell), so a message cannot make the app run anything else.

use std::process::{Command, Stdio};

use crate::error::{ClientError, Result};

/// Whether `url` may be opened: `http(s)://` followed by a host, no whitespace or
/// control characters, at most 2,048 characters.
pub fn is_openable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    url.len() <= 2048
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Opens `url` in the default browser (after [`is_openable`]).
pub fn open_url(url: &str) -> Result<()> {
    if !is_openable(url) {
        return Err(ClientError::Invalid(
            "only http and https links open".into(),
        ));
    }
    let mut cmd = if cfg!(target_os = "windows") {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else if cfg!(target_os = "macos") {
        Command::new("open")
    } else {
        Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| ClientError::Profile(format!("could not start the browser: {e}")))
}

#[cfg(test)]
mod tests {
    use super::is_openable;

    #[test]
    fn only_plain_web_links_open() {
        assert!(is_openable("https://shop.example/o/1?x=2#top"));
        assert!(is_openable(
            "http://www.openstreetmap.org/?mlat=41.3&mlon=2.1"
        ));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://",
            "https:///path",
            "https://a.example/ b",
            "https://a.example/\nb",
            "ftp://a.example",
            "-https://a.example",
        ] {
            assert!(!is_openable(bad), "{bad}");
        }
    }
}
