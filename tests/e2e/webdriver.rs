//! A small W3C WebDriver client: just what the end-to-end tests need, over blocking HTTP.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

// The W3C web element identifier.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    /// Where a failed wait saves a screenshot of what the window showed instead.
    failure_shot: std::path::PathBuf,
}

impl Session {
    /// Opens a session on a running tauri-driver; it starts `application` in a new window.
    pub fn start(driver_url: &str, application: &Path, failure_shot: &Path) -> Session {
        Session::start_with_args(driver_url, application, &[], failure_shot)
    }

    /// As [`Session::start`], passing `args` to the application's command line.
    pub fn start_with_args(
        driver_url: &str,
        application: &Path,
        args: &[String],
        failure_shot: &Path,
    ) -> Session {
        let capabilities = json!({ "tauri:options": { "application": application, "args": args } });
        Session::start_with_capabilities(driver_url, capabilities, failure_shot)
    }

    /// Opens a session with these `alwaysMatch` capabilities (tauri-driver's, or
    /// chromedriver's `goog:chromeOptions` for the browser lane).
    pub fn start_with_capabilities(
        driver_url: &str,
        capabilities: Value,
        failure_shot: &Path,
    ) -> Session {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        // A driver sometimes drops the first request while its WebKitWebDriver starts
        // (seen once in five runs as "IncompleteMessage", before any window opened); a
        // timeout is not retried, as a window may be on its way then.
        let mut attempts = 0;
        let response = loop {
            attempts += 1;
            match http
                .post(format!("{driver_url}/session"))
                .json(&body)
                .send()
            {
                Ok(response) => break response,
                Err(e) if attempts < 3 && !e.is_timeout() => {
                    eprintln!("the driver dropped the new-session request ({e}); asking again")
                }
                Err(e) => panic!("the driver answers: {e:?}"),
            }
        };
        let reply: Value = response.json().expect("a JSON reply");
        let id = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        Session {
            http,
            base: format!("{driver_url}/session/{id}"),
            failure_shot: failure_shot.to_owned(),
        }
    }

    /// Chooses `value` in the `<select>` at `css`. Picking from a native popup is not
    /// reliable over WebDriver, so this sets the value and fires the change event a
    /// person's choice fires.
    pub fn choose(&self, css: &str, value: &str) {
        self.wait_for(css);
        self.execute(
            "const s = document.querySelector(arguments[0]); \
             s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
            json!([css, value]),
        );
    }

    /// One WebDriver command on this session (`path` after `/session/{id}`).
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request
            .send()
            .expect("driver answers")
            .json()
            .expect("JSON reply");
        reply["value"].clone()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    /// The first element matching `css` right now, if any.
    pub fn find(&self, css: &str) -> Option<Element<'_>> {
        let value = self.post("/element", json!({"using": "css selector", "value": css}));
        value[ELEMENT_KEY].as_str().map(|id| Element {
            session: self,
            id: id.to_owned(),
        })
    }

    /// All elements matching `css` right now.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let value = self.post("/elements", json!({"using": "css selector", "value": css}));
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item[ELEMENT_KEY].as_str())
                    .map(|id| Element {
                        session: self,
                        id: id.to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Polls the DOM until `css` matches an element whose text satisfies `accept`.
    pub fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = self.poll(|| {
            let text = self.find(css)?.text();
            if accept(&text) {
                Some(text)
            } else {
                last = text;
                None
            }
        });
        found.unwrap_or_else(|| {
            self.screenshot(&self.failure_shot);
            panic!(
                "{css} never showed the expected text; last seen {last:?} (window: {})",
                self.failure_shot.display()
            )
        })
    }

    /// Polls the DOM until one of the elements matching `css` has a text that satisfies
    /// `accept` (e.g. one chip among a conversation's labels).
    pub fn wait_for_any_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        let mut last = Vec::new();
        let found = self.poll(|| {
            let texts: Vec<String> = self.find_all(css).iter().map(Element::text).collect();
            let hit = texts.iter().find(|t| accept(t)).cloned();
            last = texts;
            hit
        });
        found.unwrap_or_else(|| {
            self.screenshot(&self.failure_shot);
            panic!(
                "no {css} showed the expected text; last seen {last:?} (window: {})",
                self.failure_shot.display()
            )
        })
    }

    /// Polls `probe` until it finds something; `what` names it in the failure.
    pub fn wait_until<T>(&self, what: &str, probe: impl FnMut() -> Option<T>) -> T {
        self.poll(probe).unwrap_or_else(|| {
            self.screenshot(&self.failure_shot);
            panic!(
                "{what} never happened (window: {})",
                self.failure_shot.display()
            )
        })
    }

    /// Polls until `css` matches, and returns the element.
    pub fn wait_for(&self, css: &str) -> Element<'_> {
        self.poll(|| self.find(css)).unwrap_or_else(|| {
            self.screenshot(&self.failure_shot);
            panic!(
                "{css} never appeared (window: {})",
                self.failure_shot.display()
            )
        })
    }

    /// Retries `probe` until it yields, for at most 40 s. The DOM changes asynchronously
    /// (IPC answers, Svelte updates), and polling is the only signal WebDriver offers.
    fn poll<T>(&self, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
        // Generous: CI shares two cores between the app, WebKit and the relay.
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(found) = probe() {
                return Some(found);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a script in the page and returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// Runs a script that answers by calling its last argument (a callback) and returns
    /// what it passed. The session's default script timeout (30 s) applies.
    #[allow(
        dead_code,
        reason = "the inbox benchmark uses it; no end-to-end test needs it"
    )]
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args}))
    }

    /// Presses `key` while holding Alt.
    pub fn press_with_alt(&self, key: &str) {
        const ALT: &str = "\u{E00A}";
        let actions = json!({"actions": [{
            "type": "key",
            "id": "keyboard",
            "actions": [
                {"type": "keyDown", "value": ALT},
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key},
                {"type": "keyUp", "value": ALT}
            ]
        }]});
        self.post("/actions", actions);
    }

    /// Saves a PNG of the window.
    /// Saves a PNG of the window. Waits for two animation frames first: the DOM a test
    /// waited for is painted only on the next frame, and WebKit captures the last paint.
    pub fn screenshot(&self, path: &Path) {
        self.post(
            "/execute/async",
            json!({
                "script": "const done = arguments[arguments.length - 1]; \
                           requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                "args": []
            }),
        );
        let encoded = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        std::fs::write(path, png).expect("screenshot written");
    }

    pub fn close(self) {
        let _ = self.http.delete(&self.base).send();
    }
}

pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

impl Element<'_> {
    /// The element's rendered text (`innerText`). WebKitWebDriver's own text endpoint
    /// answers "" for the conversation list's rows (`role=option` items), so the text is
    /// read in the page instead.
    pub fn text(&self) -> String {
        self.session
            .execute(
                "return arguments[0].innerText",
                json!([{ ELEMENT_KEY: self.id }]),
            )
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.session
            .get(&format!("/element/{}/attribute/{name}", self.id))
            .as_str()
            .map(str::to_owned)
    }

    /// Types `text` into the element, as a person at the keyboard would (`\u{E007}` is Enter).
    pub fn send_keys(&self, text: &str) {
        self.session.post(
            &format!("/element/{}/value", self.id),
            json!({ "text": text }),
        );
    }

    pub fn click(&self) {
        self.session
            .post(&format!("/element/{}/click", self.id), json!({}));
    }

    /// Empties a text field the way typing would (an `input` event, which Svelte's
    /// `bind:value` listens to).
    pub fn clear(&self) {
        self.session.execute(
            "arguments[0].value = ''; \
             arguments[0].dispatchEvent(new Event('input', { bubbles: true }))",
            json!([{ ELEMENT_KEY: self.id }]),
        );
    }
}
