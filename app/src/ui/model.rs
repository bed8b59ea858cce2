//! UI domain state as plain structs with methods (STYLE.md §4): what each screen shows and the
//! rules behind it, with no Dioxus types, so it is tested without a window and the components
//! stay small. The engine's store is the source of truth; [`UiModel::apply_snapshot`] copies
//! what it reads into these structs.

use balade_protocol::incident::{Incident, Walk};
use balade_protocol::status::{State, StatusEvent};
use balade_protocol::taxonomy::Taxonomy;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ui::capture_form::CaptureForm;
use crate::ui::i18n::{Lang, tx};

/// The screens of the app, in the order of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Walk,
    Capture,
    Queue,
    Incident(Uuid),
    Track,
    Settings,
    Summary,
}

/// Where one incident stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalState {
    /// Not saved yet (the capture form's draft).
    Draft,
    /// Saved, waiting for the server.
    Pending,
    /// Being pushed right now.
    Sending,
    /// Stored by the server but some photos are still missing there.
    Incomplete,
    /// Acknowledged by the server.
    Received,
    /// Refused by the server (conflict or rejection): frozen for the user to see.
    Refused,
}

impl LocalState {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            LocalState::Draft => tx(lang, "brouillon", "draft"),
            LocalState::Pending => tx(lang, "en attente", "waiting"),
            LocalState::Sending => tx(lang, "envoi…", "sending…"),
            LocalState::Incomplete => tx(lang, "photos à envoyer", "photos to send"),
            LocalState::Received => tx(lang, "reçu", "received"),
            LocalState::Refused => tx(lang, "refusé…", "refused…"),
        }
    }

    /// CSS class suffix for the badge.
    pub fn css(self) -> &'static str {
        match self {
            LocalState::Draft => "draft",
            LocalState::Pending => "pending",
            LocalState::Sending => "sending",
            LocalState::Incomplete => "incomplete",
            LocalState::Received => "received",
            LocalState::Refused => "refused",
        }
    }
}

/// One incident of the local queue as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub incident: Incident,
    pub local_state: LocalState,
    pub reference: Option<String>,
    pub tracking_code: Option<String>,
    /// The server's error, in French, when the record is frozen or the last push failed.
    pub last_error: Option<String>,
    /// Public status events received through the feed, ascending `seq`.
    pub timeline: Vec<StatusEvent>,
    /// True when events arrived that the user has not opened yet.
    pub unread: bool,
    /// Local paths of the photo files, in the order of `incident.photos`.
    pub photo_paths: Vec<std::path::PathBuf>,
    /// When it last left the device in an export file.
    pub exported_at: Option<DateTime<Utc>>,
}

impl QueueRow {
    /// The public state after the last event, if the server sent any.
    pub fn public_state(&self) -> Option<State> {
        self.timeline.last().map(|e| e.state)
    }

    /// The last planned intervention date among the events.
    pub fn planned_date(&self) -> Option<chrono::NaiveDate> {
        self.timeline.iter().rev().find_map(|e| e.planned_date)
    }
}

/// A tracking code a citizen follows, with the last public view fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowedCode {
    pub code: String,
    pub view: Option<balade_protocol::envelope::TrackingView>,
    pub last_error: Option<String>,
}

/// Sync progress and history shown on the queue screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncView {
    pub running: bool,
    pub items_done: u64,
    pub items_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub last_success: Option<DateTime<Utc>>,
    /// Plain-French explanation of the last failure, saying what to do.
    pub last_error: Option<String>,
}

impl SyncView {
    /// Progress 0..=100 weighting bytes when there are any, else items.
    pub fn percent(&self) -> u64 {
        (self.bytes_done * 100)
            .checked_div(self.bytes_total)
            .or_else(|| (self.items_done * 100).checked_div(self.items_total))
            .unwrap_or(0)
            .min(100)
    }
}

/// Settings the user can change.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub server: String,
    pub photos_on_wifi_only: bool,
    pub lang: Lang,
    pub enrolled: bool,
    pub device_name: String,
    /// Map tile URL template (`https://…/{z}/{x}/{y}.png`) for the walk map; empty = no
    /// background map (the walk shows its plan instead). Default: `BALADE_TILE_URL`.
    pub tile_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: "http://127.0.0.1:8080".into(),
            photos_on_wifi_only: false,
            lang: Lang::Fr,
            enrolled: false,
            device_name: "balade".into(),
            tile_url: std::env::var("BALADE_TILE_URL").unwrap_or_default(),
        }
    }
}

/// Everything the screens show.
#[derive(Debug, Clone, PartialEq)]
pub struct UiModel {
    pub screen: Screen,
    pub taxonomy: Taxonomy,
    pub neighbourhoods: Vec<String>,
    pub walk: Option<Walk>,
    /// Ended walks, newest first.
    pub past_walks: Vec<Walk>,
    /// The ended walk whose summary was asked for (else the current or the last one).
    pub summary_of: Option<Uuid>,
    pub rows: Vec<QueueRow>,
    pub followed: Vec<FollowedCode>,
    pub settings: Settings,
    pub sync: SyncView,
    pub capture: CaptureForm,
    /// A one-line message after an action ("Signalement enregistré").
    pub notice: Option<String>,
    pub storage_bytes: u64,
}

impl UiModel {
    pub fn new(taxonomy: Taxonomy, neighbourhoods: Vec<String>) -> UiModel {
        UiModel {
            screen: Screen::Capture,
            taxonomy,
            neighbourhoods,
            walk: None,
            past_walks: Vec::new(),
            summary_of: None,
            rows: Vec::new(),
            followed: Vec::new(),
            settings: Settings::default(),
            sync: SyncView::default(),
            capture: CaptureForm::default(),
            notice: None,
            storage_bytes: 0,
        }
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    pub fn row(&self, id: Uuid) -> Option<&QueueRow> {
        self.rows.iter().find(|r| r.incident.id == id)
    }

    /// Opens an incident and marks its news as read.
    pub fn open_incident(&mut self, id: Uuid) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.incident.id == id) {
            row.unread = false;
        }
        self.screen = Screen::Incident(id);
    }

    pub fn n_unread(&self) -> usize {
        self.rows.iter().filter(|r| r.unread).count()
    }

    pub fn n_to_send(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.local_state, LocalState::Pending | LocalState::Incomplete))
            .count()
    }

    /// The incidents of a walk, newest first.
    pub fn walk_rows(&self, walk_id: Uuid) -> Vec<&QueueRow> {
        self.rows
            .iter()
            .filter(|r| r.incident.walk_id == Some(walk_id))
            .collect()
    }

    /// Count per category label for a walk's printable summary, largest first.
    pub fn summary_counts(&self, walk_id: Uuid) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for row in self.walk_rows(walk_id) {
            let label = self.category_label(&row.incident.category);
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counts
    }

    pub fn category_label(&self, code: &str) -> String {
        match self.taxonomy.category(code) {
            Some(c) => match self.lang() {
                Lang::Fr => c.label_fr.clone(),
                Lang::En => c.label_en.clone(),
            },
            None => code.to_string(),
        }
    }

    /// "Voirie › Nid-de-poule".
    pub fn kind_label(&self, category: &str, subcategory: &str) -> String {
        let Some(c) = self.taxonomy.category(category) else {
            return format!("{category} › {subcategory}");
        };
        let sub = c
            .subcategory(subcategory)
            .map(|s| match self.lang() {
                Lang::Fr => s.label_fr.clone(),
                Lang::En => s.label_en.clone(),
            })
            .unwrap_or_else(|| subcategory.to_string());
        format!("{} › {sub}", self.category_label(category))
    }

    /// The walk the summary screen shows: the ended walk asked for, else the current one, else
    /// the last ended one.
    pub fn summary_walk(&self) -> Option<&Walk> {
        self.summary_of
            .and_then(|id| self.past_walks.iter().find(|w| w.id == id))
            .or(self.walk.as_ref())
            .or(self.past_walks.first())
    }
}
