//! Headless harness for the UI tests: the real `App` in a `VirtualDom`, events in the same
//! serialised form the webview sends, and the rendered HTML (dioxus-ssr) to assert on.
//! Elements are found by their dynamic `data-testid` (and `data-code`) attributes, read from
//! the mutation stream.
#![allow(dead_code)]

use std::collections::HashMap;
use std::rc::Rc;

use balade_app::ui::backend::Backend;
use dioxus::core::{ElementId, Event, Mutation, Mutations, VirtualDom};
use dioxus::html::{
    HtmlEvent, PlatformEventData, SerializedHtmlEventConverter, SerializedKeyboardData,
    SerializedMouseData,
};
use dioxus::prelude::{Code, Key, Location, Modifiers};

pub struct Harness {
    pub dom: VirtualDom,
    pub backend: Backend,
    /// Dynamic attributes per element, from the mutations seen so far.
    attributes: HashMap<ElementId, HashMap<String, String>>,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        Harness::in_dir(dir)
    }

    /// Opens the app on an existing data directory (to test what survives a restart).
    pub fn in_dir(dir: tempfile::TempDir) -> Harness {
        dioxus::html::set_event_converter(Box::new(SerializedHtmlEventConverter));
        let backend = Backend::open(dir.path().to_path_buf(), None).unwrap();
        let dom = VirtualDom::new(balade_app::ui::App).with_root_context(backend.clone());
        let mut harness = Harness {
            dom,
            backend,
            attributes: HashMap::new(),
            dir,
        };
        let mutations = harness.dom.rebuild_to_vec();
        harness.scan(mutations);
        harness.settle();
        harness
    }

    fn scan(&mut self, mutations: Mutations) {
        for edit in mutations.edits {
            // An id given to a new node may be a recycled one: forget what the old node had.
            match &edit {
                Mutation::AssignId { id, .. }
                | Mutation::CreatePlaceholder { id }
                | Mutation::CreateTextNode { id, .. }
                | Mutation::LoadTemplate { id, .. }
                | Mutation::Remove { id } => {
                    self.attributes.remove(id);
                }
                _ => {}
            }
            if let Mutation::SetAttribute {
                name, value, id, ..
            } = edit
            {
                let dioxus::core::AttributeValue::Text(text) = value else {
                    continue;
                };
                if name == "data-testid" {
                    self.attributes.insert(id, HashMap::new());
                }
                self.attributes
                    .entry(id)
                    .or_default()
                    .insert(name.to_string(), text);
            }
        }
    }

    /// Runs pending renders (and effects) until nothing is dirty.
    pub fn settle(&mut self) {
        for _ in 0..5 {
            let mutations = self.dom.render_immediate_to_vec();
            let done = mutations.edits.is_empty();
            self.scan(mutations);
            if done {
                break;
            }
        }
    }

    /// The element with this test id (and `data-code` when given); the newest if several.
    pub fn find(&self, test_id: &str, code: Option<&str>) -> ElementId {
        let mut found: Vec<ElementId> = self
            .attributes
            .iter()
            .filter(|(_, attrs)| attrs.get("data-testid").map(String::as_str) == Some(test_id))
            .filter(|(_, attrs)| {
                code.is_none() || attrs.get("data-code").map(String::as_str) == code
            })
            .map(|(id, _)| *id)
            .collect();
        found.sort_by_key(|id| id.0);
        *found
            .last()
            .unwrap_or_else(|| panic!("no element {test_id} {code:?}"))
    }

    fn send_json(&mut self, id: ElementId, name: &str, data: serde_json::Value) {
        let json =
            serde_json::json!({"element": id.0, "name": name, "bubbles": true, "data": data});
        let event: HtmlEvent = serde_json::from_value(json).unwrap();
        self.dom.runtime().handle_event(
            &event.name,
            Event::new(event.data.into_any(), event.bubbles),
            event.element,
        );
        self.settle();
    }

    /// Types a whole value into an input (one `input` event, as the webview sends).
    pub fn input(&mut self, test_id: &str, value: &str) {
        let id = self.find(test_id, None);
        self.send_json(
            id,
            "input",
            serde_json::json!({"value": value, "values": [], "valid": true}),
        );
    }

    /// Commits a value (`change`: a select, or an input losing focus).
    pub fn change(&mut self, test_id: &str, value: &str) {
        let id = self.find(test_id, None);
        self.send_json(
            id,
            "change",
            serde_json::json!({"value": value, "values": [], "valid": true}),
        );
    }

    /// Answers a file input as the desktop's native picker does: a `change` event whose form
    /// values carry the chosen files' paths.
    pub fn pick_files(&mut self, test_id: &str, paths: &[&std::path::Path]) {
        let id = self.find(test_id, None);
        let values: Vec<_> = paths
            .iter()
            .map(|path| {
                serde_json::json!({"key": "", "text": null, "file": {
                    "path": path, "size": std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                    "last_modified": 0, "content_type": null, "contents": null}})
            })
            .collect();
        self.send_json(
            id,
            "change",
            serde_json::json!({"value": "", "values": values, "valid": true}),
        );
    }

    pub fn click(&mut self, test_id: &str) {
        let id = self.find(test_id, None);
        self.click_id(id);
    }

    pub fn click_code(&mut self, test_id: &str, code: &str) {
        let id = self.find(test_id, Some(code));
        self.click_id(id);
    }

    fn click_id(&mut self, id: ElementId) {
        let data = Rc::new(PlatformEventData::new(Box::new(
            SerializedMouseData::default(),
        )));
        self.dom
            .runtime()
            .handle_event("click", Event::new(data, true), id);
        self.settle();
    }

    pub fn key(&mut self, test_id: &str, key: Key, ctrl: bool) {
        let id = self.find(test_id, None);
        let modifiers = if ctrl {
            Modifiers::CONTROL
        } else {
            Modifiers::empty()
        };
        let data = SerializedKeyboardData::new(
            key,
            Code::Enter,
            Location::Standard,
            false,
            modifiers,
            false,
        );
        let data = Rc::new(PlatformEventData::new(Box::new(data)));
        self.dom
            .runtime()
            .handle_event("keydown", Event::new(data, true), id);
        self.settle();
    }

    pub fn html(&self) -> String {
        dioxus_ssr::render(&self.dom)
    }
}

/// A small JPEG on disk, for photo fields.
pub fn write_photo(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let image = image::RgbImage::from_pixel(32, 24, image::Rgb([200, 30, 30]));
    image.save(&path).unwrap();
    path
}

impl Harness {
    /// Changes the model as the engine would after a sync (rows, events), then re-renders.
    pub fn with_model(&mut self, change: impl FnOnce(&mut balade_app::ui::model::UiModel)) {
        use dioxus::prelude::{ReadableExt, ScopeId, Signal, WritableExt, consume_context};
        let mut model = self.dom.in_scope(
            ScopeId::APP,
            consume_context::<Signal<balade_app::ui::model::UiModel>>,
        );
        self.dom.in_runtime(|| {
            let _ = model.peek();
            change(&mut model.write());
        });
        self.settle();
    }
}

/// A public status event as the feed brings it (Service Voirie, fixed time), for the screens.
pub fn status_event(
    seq: i64,
    id: uuid::Uuid,
    kind: balade_protocol::status::EventKind,
    state: balade_protocol::status::State,
    reference: &str,
) -> balade_protocol::status::StatusEvent {
    balade_protocol::status::StatusEvent {
        seq,
        incident_id: id,
        kind,
        state,
        at: "2026-05-02T09:00:00Z".parse().unwrap(),
        reference: reference.into(),
        service: Some("Service Voirie".into()),
        outside_body: None,
        note: None,
        planned_date: None,
        reason: None,
        duplicate_of: None,
        category: None,
        subcategory: None,
        address: None,
    }
}
