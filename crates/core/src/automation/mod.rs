//! The automation engine: rules (triggers, conditions, actions), assignment, business
//! hours, auto-replies and the FAQ bot, automatic labels, SLAs and broadcast pacing.
//!
//! Pure and synchronous like the rest of the core: the relay passes in the facts and the
//! time, the engine returns a plan ([`Evaluation`]) with a reason for every step, and the
//! relay carries it out. The same call is the UI's dry run.
//!
//! ```text
//! settings (JSON) ─compile─▶ CompiledRules ─evaluate(Context, LiveState)─▶ Evaluation
//! ```

pub mod assign;
pub mod broadcast;
pub mod defaults;
pub mod engine;
pub mod hours;
pub mod labels;
pub mod replies;
pub mod rules;
pub mod sla;
pub mod text;

#[cfg(test)]
mod tests;

pub use assign::{
    AssignmentPolicy, MemberLoad, RoundRobinState, Strategy as AssignStrategy, Team, pick_member,
};
pub use broadcast::{BroadcastPlan, DayStats, Pacing};
pub use defaults::{default_rules, default_settings};
pub use engine::{
    CompileError, CompiledRules, Evaluation, FiredRule, LiveState, Planned, PlannedAction,
    SkippedAction, dry_run,
};
pub use hours::{BusinessHours, CompiledHours, Language, OpenRange, format_wait};
pub use labels::{AutoLabel, AutoLabels};
pub use replies::{AutoReplySettings, FaqBot, FaqEntry, SentAutoReply};
pub use rules::{
    Action, AttributeTest, AttributeValue, AutomationSettings, Comparison, Condition, Conditions,
    ContactFacts, Context, ConversationFacts, Event, InboundMessage, Match, NotifyTarget, Priority,
    Rule, Trigger,
};
pub use sla::{SlaFacts, SlaKind, SlaPolicy, SlaState, SlaTarget, sla_state};

/// Evaluates compiled rules for one event (the same as [`CompiledRules::evaluate`]; see
/// [`dry_run`] to compile and evaluate in one call).
pub fn evaluate(rules: &CompiledRules, ctx: &Context, live: &LiveState) -> Evaluation {
    rules.evaluate(ctx, live)
}
