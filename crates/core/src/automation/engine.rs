//! Compiling rules once and evaluating them per event: the hot path the relay runs on every
//! inbound message, and the dry run the UI shows.
//!
//! Conflicts between rules are settled by order: the first assignment, priority and
//! auto-reply win (at most ONE auto-reply per event, so a customer never gets two
//! messages at once); labels and notifications add up; SLA targets combine to the strictest.
//! Everything not done is listed in [`Evaluation::skipped`] with the reason.

use std::collections::HashMap;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::assign::{AssignmentPolicy, RoundRobinState, Strategy, Team, pick_member};
use super::hours::{CompiledHours, Language, format_wait};
use super::labels::{AutoLabels, LabelFacts};
use super::replies::{FaqBot, FaqIndex, ReplyGuard, cooldown_until};
use super::rules::{
    Action, AttributeTest, AttributeValue, AutomationSettings, Condition, Context, Event, Match,
    NotifyTarget, Priority, Rule, Trigger, describe,
};
use super::sla::{SlaPolicy, SlaTarget};
use super::text::{KeywordKind, PreparedText, classify, fold, fold_eq, is_cjk, normalize_tag};
use crate::schedule::UnknownTimeZone;

/// Why settings cannot be compiled (shown to whoever edits them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    TimeZone(#[from] UnknownTimeZone),
    #[error("rule {rule:?}: a keyword condition needs at least one non-empty keyword")]
    EmptyKeywords { rule: String },
    #[error("rule {rule:?}: the hashtag is empty")]
    EmptyHashtag { rule: String },
    #[error("two rules have the id {0:?}")]
    DuplicateRuleId(String),
}

/// The team as it is right now: loads, presence, supervisors, round-robin cursors. The
/// relay builds it from its tables for each evaluation.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AutomationLive.ts"))]
pub struct LiveState {
    pub teams: Vec<Team>,
    pub supervisors: Vec<String>,
    #[serde(default)]
    pub round_robin: RoundRobinState,
}

/// What the engine plans; the relay carries it out (as commands, in this order).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "PlannedStep.ts"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Planned {
    AddLabel {
        label: String,
    },
    RemoveLabel {
        label: String,
    },
    /// `member: None` leaves it in `team`'s queue.
    Assign {
        team: Option<String>,
        member: Option<String>,
    },
    SetPriority {
        priority: Priority,
    },
    /// Record `key` with the send time: it feeds the cooldown next time.
    SendAutoReply {
        key: String,
        text: String,
    },
    Notify {
        members: Vec<String>,
        text: String,
    },
    SetSla {
        target: SlaTarget,
    },
}

/// One planned action with where it came from and why, for the dry run and the audit.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "PlannedAction.ts"))]
pub struct PlannedAction {
    /// A rule id, or `auto_label:<which>`, `faq:<entry>`, `faq:handoff`.
    pub source: String,
    pub source_name: String,
    pub action: Planned,
    pub reason: String,
}

/// An action a fired rule asked for but that was not planned, and why.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SkippedAction.ts"))]
pub struct SkippedAction {
    pub source: String,
    pub action: String,
    pub why: String,
}

/// A rule that fired, with the conditions that made it fire.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "FiredRule.ts"))]
pub struct FiredRule {
    pub rule_id: String,
    pub rule_name: String,
    pub reason: String,
}

/// The result of one evaluation.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AutomationEvaluation.ts")
)]
pub struct Evaluation {
    pub actions: Vec<PlannedAction>,
    pub fired: Vec<FiredRule>,
    pub skipped: Vec<SkippedAction>,
    /// Round-robin cursors after this evaluation; the relay stores them once it has
    /// carried the plan out (a dry run discards them).
    pub round_robin: RoundRobinState,
    /// Set when the inbound message was judged automated (auto-replies were withheld).
    pub automated_inbound: Option<String>,
}

impl Evaluation {
    /// The planned steps alone.
    pub fn planned(&self) -> impl Iterator<Item = &Planned> {
        self.actions.iter().map(|a| &a.action)
    }
}

/// Every keyword and hashtag of every rule, deduplicated, so a message is scanned once
/// and each condition then is a table lookup.
#[derive(Clone, Debug, Default)]
struct KeywordIndex {
    count: usize,
    dedup: HashMap<(u8, String), usize>,
    words: HashMap<String, Vec<usize>>,
    prefixes: HashMap<String, Vec<usize>>,
    substrings: Vec<(String, usize)>,
    phrases: Vec<(Vec<String>, usize)>,
    tags: HashMap<String, Vec<usize>>,
    cjk_tags: Vec<(String, usize)>,
}

impl KeywordIndex {
    fn id(&mut self, kind: u8, key: String) -> (usize, bool) {
        let next = self.count;
        let id = *self.dedup.entry((kind, key)).or_insert(next);
        let new = id == next;
        if new {
            self.count += 1;
        }
        (id, new)
    }

    fn keyword(&mut self, k: KeywordKind) -> usize {
        match k {
            KeywordKind::Word(w) => {
                let (id, new) = self.id(0, w.clone());
                if new {
                    self.words.entry(w).or_default().push(id);
                }
                id
            }
            KeywordKind::Prefix(p) => {
                let (id, new) = self.id(1, p.clone());
                if new {
                    self.prefixes.entry(p).or_default().push(id);
                }
                id
            }
            KeywordKind::Substring(s) => {
                let (id, new) = self.id(2, s.clone());
                if new {
                    self.substrings.push((s, id));
                }
                id
            }
            KeywordKind::Phrase(p) => {
                let (id, new) = self.id(3, p.join(" "));
                if new {
                    self.phrases.push((p, id));
                }
                id
            }
        }
    }

    fn tag(&mut self, tag: String) -> usize {
        let (id, new) = self.id(4, tag.clone());
        if new {
            if tag.chars().any(is_cjk) {
                self.cjk_tags.push((tag, id));
            } else {
                self.tags.entry(tag).or_default().push(id);
            }
        }
        id
    }

    /// Which keywords and tags `text` carries, by id.
    fn scan(&self, text: &PreparedText) -> Vec<bool> {
        let mut hit = vec![false; self.count];
        if text.folded.is_empty() {
            return hit;
        }
        for i in 0..text.word_count() {
            let w = text.word(i);
            if let Some(ids) = self.words.get(w) {
                ids.iter().for_each(|&id| hit[id] = true);
            }
            if !self.prefixes.is_empty() {
                for (end, _) in w.char_indices().skip(1).chain([(w.len(), ' ')]) {
                    if let Some(ids) = self.prefixes.get(&w[..end]) {
                        ids.iter().for_each(|&id| hit[id] = true);
                    }
                }
            }
        }
        for (s, id) in &self.substrings {
            if text.folded.contains(s.as_str()) {
                hit[*id] = true;
            }
        }
        for (p, id) in &self.phrases {
            if text.has_phrase(p) {
                hit[*id] = true;
            }
        }
        for t in &text.tags {
            if let Some(ids) = self.tags.get(t) {
                ids.iter().for_each(|&id| hit[id] = true);
            }
            for (tag, id) in &self.cjk_tags {
                if t.starts_with(tag.as_str()) {
                    hit[*id] = true;
                }
            }
        }
        hit
    }
}

#[derive(Clone, Debug)]
enum Check {
    Ids(Vec<usize>),
    /// Keyword ids with the keyword as written (for the dry run's reason).
    Keywords(Vec<(usize, String)>),
    Label(String, bool),
    Attribute(String, AttributeTest),
    NewCustomer(SignedDuration),
    Hours(bool),
    AssigneeWaiting(super::rules::Comparison, u32),
    TeamAvailable(String, bool),
}

#[derive(Clone, Debug)]
struct CompiledRule {
    rule: Rule,
    checks: Vec<Check>,
}

/// Settings compiled for fast evaluation. Build once when the settings change.
#[derive(Clone, Debug)]
pub struct CompiledRules {
    rules: Vec<CompiledRule>,
    index: KeywordIndex,
    hours: CompiledHours,
    policy: AssignmentPolicy,
    auto_labels: AutoLabels,
    sla: SlaPolicy,
    guard: ReplyGuard,
    faq: FaqBot,
    faq_index: FaqIndex,
}

impl CompiledRules {
    pub fn compile(settings: &AutomationSettings) -> Result<CompiledRules, CompileError> {
        let mut index = KeywordIndex::default();
        let mut rules: Vec<&Rule> = settings.rules.iter().collect();
        rules.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        for pair in rules.windows(2) {
            if pair[0].id == pair[1].id {
                return Err(CompileError::DuplicateRuleId(pair[0].id.clone()));
            }
        }
        let mut compiled = Vec::new();
        for rule in rules.into_iter().filter(|r| r.enabled) {
            let mut checks = Vec::with_capacity(rule.conditions.items.len());
            for c in &rule.conditions.items {
                checks.push(match c {
                    Condition::Hashtag { tag } => {
                        let tag = normalize_tag(tag);
                        if tag.is_empty() {
                            return Err(CompileError::EmptyHashtag {
                                rule: rule.id.clone(),
                            });
                        }
                        Check::Ids(vec![index.tag(tag)])
                    }
                    Condition::Keyword { any } => {
                        let ids: Vec<(usize, String)> = any
                            .iter()
                            .filter_map(|k| {
                                classify(k).map(|kind| (index.keyword(kind), k.trim().to_owned()))
                            })
                            .collect();
                        if ids.is_empty() {
                            return Err(CompileError::EmptyKeywords {
                                rule: rule.id.clone(),
                            });
                        }
                        Check::Keywords(ids)
                    }
                    Condition::Label { label, present } => Check::Label(fold(label), *present),
                    Condition::Attribute { key, test } => Check::Attribute(
                        key.clone(),
                        match test {
                            AttributeTest::TextEquals(v) => AttributeTest::TextEquals(fold(v)),
                            AttributeTest::TextContains(v) => AttributeTest::TextContains(fold(v)),
                            other => other.clone(),
                        },
                    ),
                    Condition::NewCustomer { within_hours } => {
                        Check::NewCustomer(SignedDuration::from_hours(i64::from(*within_hours)))
                    }
                    Condition::BusinessHours { open } => Check::Hours(*open),
                    Condition::AssigneeWaiting { cmp, value } => {
                        Check::AssigneeWaiting(*cmp, *value)
                    }
                    Condition::TeamAvailable { team, available } => {
                        Check::TeamAvailable(team.clone(), *available)
                    }
                });
            }
            compiled.push(CompiledRule {
                rule: rule.clone(),
                checks,
            });
        }
        let sla = SlaPolicy {
            by_label: settings
                .sla
                .by_label
                .iter()
                .map(|(k, v)| (fold(k), *v))
                .collect(),
        };
        Ok(CompiledRules {
            rules: compiled,
            index,
            hours: settings.business_hours.compile()?,
            policy: settings.assignment.clone(),
            auto_labels: settings.auto_labels.clone(),
            sla,
            guard: ReplyGuard::new(&settings.auto_replies),
            faq: settings.faq.clone(),
            faq_index: FaqIndex::new(&settings.faq),
        })
    }

    /// Enabled rules, in evaluation order.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn hours(&self) -> &CompiledHours {
        &self.hours
    }

    /// Evaluates every rule, the automatic labels and the FAQ bot for one event.
    pub fn evaluate(&self, ctx: &Context, live: &LiveState) -> Evaluation {
        let text = PreparedText::new(ctx.message.as_ref().map_or("", |m| m.text.as_str()));
        let hits = self.index.scan(&text);
        let inbound = matches!(ctx.event, Event::MessageReceived) && ctx.message.is_some();
        let automated = if inbound {
            self.guard.automated_reason(
                ctx.message.as_ref().is_some_and(|m| m.automated),
                &text,
                &ctx.contact.auto_replies_sent,
                ctx.now,
            )
        } else {
            None
        };
        let mut run = Run {
            engine: self,
            ctx,
            live,
            labels: ctx.conversation.labels.iter().map(|l| fold(l)).collect(),
            assignee: ctx.conversation.assignee.clone(),
            assignment_planned: false,
            priority_set: false,
            auto_reply_planned: false,
            sla: None,
            notifies: Vec::new(),
            open: None,
            out: Evaluation {
                round_robin: live.round_robin.clone(),
                automated_inbound: automated,
                ..Evaluation::default()
            },
        };
        run.auto_labels();
        for r in &self.rules {
            if !run.triggered(&r.rule.trigger) {
                continue;
            }
            let Some(reason) = run.conditions(r, &hits) else {
                continue;
            };
            run.out.fired.push(FiredRule {
                rule_id: r.rule.id.clone(),
                rule_name: r.rule.name.clone(),
                reason: reason.clone(),
            });
            for a in &r.rule.actions {
                run.apply(&r.rule, a, &reason);
            }
            if r.rule.stop_processing {
                break;
            }
        }
        if inbound && run.out.automated_inbound.is_none() {
            run.faq(&text);
        }
        run.finish()
    }
}

/// Compiles `settings` and evaluates one event: the dry run in one call.
pub fn dry_run(
    settings: &AutomationSettings,
    ctx: &Context,
    live: &LiveState,
) -> Result<Evaluation, CompileError> {
    Ok(CompiledRules::compile(settings)?.evaluate(ctx, live))
}

struct PendingNotify {
    source: String,
    source_name: String,
    to: NotifyTarget,
    text: String,
    reason: String,
}

/// Describes condition `i` of a fired rule; for keywords, the ones the message contains.
fn explain(r: &CompiledRule, i: usize, hits: &[bool]) -> String {
    match &r.checks[i] {
        Check::Keywords(ids) => {
            let found: Vec<String> = ids
                .iter()
                .filter(|(id, _)| hits[*id])
                .map(|(_, k)| format!("\"{k}\""))
                .collect();
            format!("keyword {}", found.join(", "))
        }
        _ => describe(&r.rule.conditions.items[i]),
    }
}

/// The state of one evaluation pass.
struct Run<'a> {
    engine: &'a CompiledRules,
    ctx: &'a Context,
    live: &'a LiveState,
    /// Folded labels, including those added earlier in this pass.
    labels: Vec<String>,
    assignee: Option<String>,
    assignment_planned: bool,
    priority_set: bool,
    auto_reply_planned: bool,
    sla: Option<(SlaTarget, Vec<String>, String, String)>,
    notifies: Vec<PendingNotify>,
    open: Option<bool>,
    out: Evaluation,
}

impl<'a> Run<'a> {
    fn plan(&mut self, source: &str, name: &str, action: Planned, reason: String) {
        self.out.actions.push(PlannedAction {
            source: source.to_owned(),
            source_name: name.to_owned(),
            action,
            reason,
        });
    }

    fn skip(&mut self, source: &str, action: &str, why: String) {
        self.out.skipped.push(SkippedAction {
            source: source.to_owned(),
            action: action.to_owned(),
            why,
        });
    }

    fn is_open(&mut self) -> bool {
        *self
            .open
            .get_or_insert_with(|| self.engine.hours.is_open(self.ctx.now))
    }

    fn team(&self, id: &str) -> Option<&'a Team> {
        self.live.teams.iter().find(|t| t.id == id)
    }

    fn member_waiting(&self, id: &str) -> Option<u32> {
        self.live
            .teams
            .iter()
            .flat_map(|t| &t.members)
            .find(|m| m.id == id)
            .map(|m| m.waiting)
    }

    fn vip(&self) -> bool {
        let p = &self.engine.policy;
        match (
            p.vip_above,
            self.ctx.contact.attributes.get(&p.vip_attribute),
        ) {
            (Some(limit), Some(AttributeValue::Number(n))) => *n > limit,
            _ => false,
        }
    }

    fn triggered(&self, t: &Trigger) -> bool {
        match (t, &self.ctx.event) {
            (Trigger::MessageReceived, Event::MessageReceived)
            | (Trigger::ConversationOpened, Event::ConversationOpened) => true,
            (Trigger::LabelAdded { label }, Event::LabelAdded { label: added }) => {
                label.as_ref().is_none_or(|l| fold(l) == fold(added))
            }
            (Trigger::NoReply { after_secs }, Event::NoReplyTick { previous_tick }) => {
                let Some(since) = self.ctx.conversation.unanswered_since else {
                    return false;
                };
                let after = SignedDuration::from_secs(i64::from(*after_secs));
                self.ctx.now.duration_since(since) >= after
                    && previous_tick.is_none_or(|p| p.duration_since(since) < after)
            }
            (Trigger::SlaDue { kind }, Event::SlaDue { kind: due }) => {
                kind.is_none_or(|k| k == *due)
            }
            _ => false,
        }
    }

    fn check(&mut self, c: &Check, hits: &[bool]) -> bool {
        match c {
            Check::Ids(ids) => ids.iter().any(|&i| hits[i]),
            Check::Keywords(ids) => ids.iter().any(|(i, _)| hits[*i]),
            Check::Label(l, present) => self.labels.contains(l) == *present,
            Check::Attribute(key, test) => match (test, self.ctx.contact.attributes.get(key)) {
                (AttributeTest::Gt(v), Some(AttributeValue::Number(n))) => n > v,
                (AttributeTest::Lt(v), Some(AttributeValue::Number(n))) => n < v,
                (AttributeTest::Eq(v), Some(AttributeValue::Number(n))) => n == v,
                (AttributeTest::TextEquals(v), Some(AttributeValue::Text(t))) => fold_eq(t, v),
                (AttributeTest::TextContains(v), Some(AttributeValue::Text(t))) => {
                    fold(t).contains(v.as_str())
                }
                (AttributeTest::Is(v), Some(AttributeValue::Bool(b))) => b == v,
                _ => false,
            },
            Check::NewCustomer(within) => self
                .ctx
                .contact
                .first_contact_at
                .is_none_or(|t| self.ctx.now.duration_since(t) < *within),
            Check::Hours(open) => self.is_open() == *open,
            Check::AssigneeWaiting(cmp, v) => self
                .assignee
                .as_deref()
                .and_then(|a| self.member_waiting(a))
                .is_some_and(|w| cmp.holds(w, *v)),
            Check::TeamAvailable(team, available) => {
                self.team(team)
                    .is_some_and(|t| t.members.iter().any(|m| m.available()))
                    == *available
            }
        }
    }

    /// `Some(reason)` when the rule's conditions hold.
    fn conditions(&mut self, r: &CompiledRule, hits: &[bool]) -> Option<String> {
        let items = &r.rule.conditions.items;
        if items.is_empty() {
            return Some("no conditions".into());
        }
        match r.rule.conditions.mode {
            Match::All => {
                for c in &r.checks {
                    if !self.check(c, hits) {
                        return None;
                    }
                }
                let parts: Vec<String> = (0..items.len()).map(|i| explain(r, i, hits)).collect();
                Some(parts.join(" and "))
            }
            Match::Any => {
                let i = (0..r.checks.len()).find(|&i| self.check(&r.checks[i], hits))?;
                Some(explain(r, i, hits))
            }
        }
    }

    fn auto_labels(&mut self) {
        let ctx = self.ctx;
        let facts = LabelFacts {
            now: ctx.now,
            first_contact_at: ctx.contact.first_contact_at,
            interactions: ctx.contact.interactions,
            last_customer_message_at: ctx.conversation.last_customer_message_at,
            last_agent_reply_at: ctx.conversation.last_agent_reply_at,
        };
        let auto = &self.engine.auto_labels;
        for d in auto.decide(&facts) {
            let folded = fold(d.label);
            let present = self.labels.contains(&folded);
            if d.add == present {
                continue;
            }
            let source = format!("auto_label:{}", d.which);
            let reason = match d.which {
                "new_customer" => format!("first contact within {} h", auto.new_customer.threshold),
                "high_priority" => {
                    format!("more than {} interactions", auto.high_priority.threshold)
                }
                _ => format!(
                    "no reply from the customer for {} h",
                    auto.needs_follow_up.threshold
                ),
            };
            let label = d.label.to_owned();
            if d.add {
                self.labels.push(folded);
                self.plan(&source, d.label, Planned::AddLabel { label }, reason);
            } else {
                self.labels.retain(|l| *l != folded);
                let reason = format!("no longer: {reason}");
                self.plan(&source, d.label, Planned::RemoveLabel { label }, reason);
            }
        }
    }

    fn apply(&mut self, rule: &Rule, action: &Action, why: &str) {
        let (id, name) = (rule.id.as_str(), rule.name.as_str());
        // The rule is named in `source_name`; the reason says what matched.
        let reason = || why.to_owned();
        match action {
            Action::AddLabel { label } => {
                let folded = fold(label);
                if self.labels.contains(&folded) {
                    self.skip(
                        id,
                        &format!("add label {label}"),
                        "the label is already there".into(),
                    );
                } else {
                    self.labels.push(folded);
                    self.plan(
                        id,
                        name,
                        Planned::AddLabel {
                            label: label.clone(),
                        },
                        reason(),
                    );
                }
            }
            Action::AssignTeam { team } => self.assign(id, name, team, None, reason()),
            Action::AssignMember { member } => self.assign_member(id, name, member, reason()),
            Action::AssignLeastLoaded { team } => {
                self.assign(id, name, team, Some(Strategy::LeastLoaded), reason())
            }
            Action::AssignRoundRobin { team } => {
                self.assign(id, name, team, Some(Strategy::RoundRobin), reason())
            }
            Action::SetPriority { priority } => {
                if self.priority_set {
                    self.skip(
                        id,
                        "set priority",
                        "an earlier rule set the priority".into(),
                    );
                } else {
                    self.priority_set = true;
                    self.plan(
                        id,
                        name,
                        Planned::SetPriority {
                            priority: *priority,
                        },
                        reason(),
                    );
                }
            }
            Action::AutoReply {
                key,
                text,
                cooldown_secs,
                language,
            } => {
                let cooldown = cooldown_secs.map(|s| SignedDuration::from_secs(i64::from(s)));
                self.auto_reply(id, name, key, text, cooldown, *language, reason());
            }
            Action::Notify { to, text } => self.notifies.push(PendingNotify {
                source: id.to_owned(),
                source_name: name.to_owned(),
                to: to.clone(),
                text: text.clone(),
                reason: reason(),
            }),
            Action::SetSla { target } => match &mut self.sla {
                Some((t, sources, _, _)) => {
                    *t = t.strictest(*target);
                    sources.push(name.to_owned());
                }
                None => {
                    self.sla = Some((
                        *target,
                        vec![name.to_owned()],
                        id.to_owned(),
                        name.to_owned(),
                    ))
                }
            },
        }
    }

    fn already_assigned(&mut self, source: &str, what: impl Fn() -> String) -> bool {
        if self.assignment_planned {
            self.skip(
                source,
                &what(),
                "an earlier rule already assigned the conversation".into(),
            );
            return true;
        }
        if let Some(a) = &self.ctx.conversation.assignee {
            self.skip(
                source,
                &what(),
                format!("the conversation is already assigned to {a}"),
            );
            return true;
        }
        false
    }

    fn assign(
        &mut self,
        id: &str,
        name: &str,
        team_id: &str,
        how: Option<Strategy>,
        reason: String,
    ) {
        let what = || format!("assign to {team_id}");
        if self.already_assigned(id, what) {
            return;
        }
        let Some(team) = self.team(team_id) else {
            self.skip(id, &what(), format!("there is no team {team_id:?}"));
            return;
        };
        let (member, notes) = match how {
            None => (None, Vec::new()),
            Some(strategy) => {
                let vip = self.vip();
                let pick = pick_member(
                    team,
                    strategy,
                    &self.engine.policy,
                    vip,
                    &mut self.out.round_robin,
                );
                (pick.member, pick.notes)
            }
        };
        let mut reason = reason;
        for n in notes {
            reason.push_str("; ");
            reason.push_str(&n);
        }
        if how.is_some() && member.is_none() {
            reason.push_str("; waits in the team queue");
        }
        self.assignment_planned = true;
        if member.is_some() {
            self.assignee = member.clone();
        }
        self.plan(
            id,
            name,
            Planned::Assign {
                team: Some(team_id.to_owned()),
                member,
            },
            reason,
        );
    }

    fn assign_member(&mut self, id: &str, name: &str, member: &str, reason: String) {
        let what = || format!("assign to {member}");
        if self.already_assigned(id, what) {
            return;
        }
        let found = self
            .live
            .teams
            .iter()
            .flat_map(|t| &t.members)
            .find(|m| m.id == member);
        match found {
            None => self.skip(id, &what(), format!("there is no member {member:?}")),
            Some(m) if !m.available() => {
                self.skip(id, &what(), format!("{member} is offline or at capacity"))
            }
            Some(_) => {
                self.assignment_planned = true;
                self.assignee = Some(member.to_owned());
                self.plan(
                    id,
                    name,
                    Planned::Assign {
                        team: None,
                        member: Some(member.to_owned()),
                    },
                    reason,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn auto_reply(
        &mut self,
        id: &str,
        name: &str,
        key: &str,
        text: &str,
        cooldown: Option<SignedDuration>,
        language: Language,
        reason: String,
    ) {
        let what = || format!("auto-reply {key}");
        if let Some(why) = &self.out.automated_inbound {
            let why = format!("never answer an auto-reply: {why}");
            self.skip(id, &what(), why);
            return;
        }
        if self.auto_reply_planned {
            self.skip(
                id,
                &what(),
                "one auto-reply per message; an earlier one is planned".into(),
            );
            return;
        }
        let cooldown = cooldown.unwrap_or(self.engine.guard.default_cooldown());
        if let Some(until) = cooldown_until(
            key,
            cooldown,
            &self.ctx.contact.auto_replies_sent,
            self.ctx.now,
        ) {
            self.skip(
                id,
                &what(),
                format!("sent to this customer recently; allowed again at {until}"),
            );
            return;
        }
        let text = if text.contains("{reply_eta}") {
            let eta = match self.engine.hours.wait_until_open(self.ctx.now) {
                Some(wait) => format_wait(wait, language),
                None => match language {
                    Language::En => "as soon as possible".into(),
                    Language::Ru => "как можно скорее".into(),
                    Language::Zh => "尽快".into(),
                },
            };
            text.replace("{reply_eta}", &eta)
        } else {
            text.to_owned()
        };
        self.auto_reply_planned = true;
        self.plan(
            id,
            name,
            Planned::SendAutoReply {
                key: key.to_owned(),
                text,
            },
            reason,
        );
    }

    fn faq(&mut self, text: &PreparedText) {
        let engine = self.engine;
        let faq = &engine.faq;
        if engine.faq_index.wants_person(text) {
            let (src, name) = ("faq:handoff", "Talk to a person");
            let reason = "the customer asked for a person".to_owned();
            let team = faq
                .handoff_team
                .clone()
                .or_else(|| self.ctx.conversation.team.clone());
            if let Some(team) = team
                && self.assignee.is_none()
                && !self.assignment_planned
            {
                self.assign(
                    src,
                    name,
                    &team,
                    Some(Strategy::LeastLoaded),
                    reason.clone(),
                );
            }
            let text = "The customer asks to talk to a person".to_owned();
            for to in [NotifyTarget::Assignee, NotifyTarget::Supervisors] {
                self.notifies.push(PendingNotify {
                    source: src.into(),
                    source_name: name.into(),
                    to,
                    text: text.clone(),
                    reason: reason.clone(),
                });
            }
            if !faq.handoff_reply.is_empty() {
                let reply = faq.handoff_reply.clone();
                self.auto_reply(src, name, src, &reply, None, Language::En, reason);
            }
            return;
        }
        if !faq.enabled || self.assignee.is_some() || self.auto_reply_planned {
            return;
        }
        let Some((i, score)) = engine.faq_index.best(text, faq.min_score) else {
            return;
        };
        let entry = &faq.entries[i];
        let mut answer = entry.answer.clone();
        if !faq.handoff_hint.is_empty() {
            answer.push_str("\n\n");
            answer.push_str(&faq.handoff_hint);
        }
        let key = format!("faq:{}", entry.id);
        let reason = format!("FAQ \"{}\" matched (score {score})", entry.question);
        self.auto_reply(
            &key,
            &entry.question,
            &key,
            &answer,
            None,
            Language::En,
            reason,
        );
    }

    fn finish(mut self) -> Evaluation {
        for n in std::mem::take(&mut self.notifies) {
            let mut members: Vec<String> = match &n.to {
                NotifyTarget::Supervisors => self.live.supervisors.clone(),
                NotifyTarget::Assignee => self.assignee.iter().cloned().collect(),
                NotifyTarget::Members { ids } => ids.clone(),
                NotifyTarget::Team { team } => self
                    .team(team)
                    .map(|t| t.members.iter().map(|m| m.id.clone()).collect())
                    .unwrap_or_default(),
            };
            members.sort();
            members.dedup();
            if members.is_empty() {
                self.skip(
                    &n.source,
                    "notify",
                    format!("nobody to notify ({:?})", n.to),
                );
                continue;
            }
            let step = Planned::Notify {
                members,
                text: n.text,
            };
            if !self.out.planned().any(|p| *p == step) {
                self.plan(&n.source, &n.source_name, step, n.reason);
            }
        }
        if let Some((rule_target, sources, id, name)) = self.sla.take() {
            let target = self
                .engine
                .sla
                .target_for(self.labels.iter().map(String::as_str), Some(rule_target));
            let reason = format!(
                "SLA from {} (strictest with label targets)",
                sources.join(", ")
            );
            self.plan(&id, &name, Planned::SetSla { target }, reason);
        }
        self.out
    }
}
