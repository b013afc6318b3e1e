//! Status webhooks due at a point in sim time. Moving the clock forward fires everything
//! that became due, so tests never sleep for a `delivered` or `read`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use crate::Shared;
use crate::error::AsyncError;
use crate::payload::{ChangeValue, Conversation, Origin, StatusError, StatusObject, pricing};
use crate::state::StatusRecord;
use crate::webhook::Command;

#[derive(Debug, Clone)]
pub enum Job {
    Status { wamid: String, status: &'static str },
    Failed { wamid: String, error: AsyncError },
}

#[derive(Default)]
pub struct Scheduler {
    jobs: Mutex<BTreeMap<(i64, u64), Job>>,
    seq: std::sync::atomic::AtomicU64,
}

impl Scheduler {
    pub fn at(&self, due_ms: i64, job: Job) {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.jobs
            .lock()
            .expect("jobs lock")
            .insert((due_ms, seq), job);
    }

    pub fn clear(&self) {
        self.jobs.lock().expect("jobs lock").clear();
    }

    fn take_due(&self, now_ms: i64) -> (Vec<Job>, Option<i64>) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        let later = jobs.split_off(&(now_ms + 1, 0));
        let due = std::mem::replace(&mut *jobs, later);
        (due.into_values().collect(), jobs.keys().next().map(|k| k.0))
    }
}

/// Schedules a message's life after acceptance: `failed` straight away when Meta would
/// refuse it later, else sent → delivered → read on the configured schedule.
pub fn plan(shared: &Shared, wamid: &str, error: Option<AsyncError>) {
    let now = shared.clock.now_ms();
    let s = &shared.config.statuses;
    if let Some(error) = error {
        shared.scheduler.at(
            now + s.sent.as_millis() as i64,
            Job::Failed {
                wamid: wamid.to_string(),
                error,
            },
        );
    } else {
        let mut steps = vec![("sent", s.sent), ("delivered", s.delivered)];
        if let Some(read) = s.read {
            steps.push(("read", read));
        }
        let out_of_order = shared.state.lock().expect("state lock").faults.out_of_order;
        if out_of_order {
            // Everything lands together, newest first, as Meta sometimes does.
            let last = steps.iter().map(|(_, d)| *d).max().unwrap_or_default();
            for (status, _) in steps.iter().rev() {
                shared.scheduler.at(
                    now + last.as_millis() as i64,
                    Job::Status {
                        wamid: wamid.to_string(),
                        status,
                    },
                );
            }
        } else {
            for (status, delay) in steps {
                shared.scheduler.at(
                    now + delay.as_millis() as i64,
                    Job::Status {
                        wamid: wamid.to_string(),
                        status,
                    },
                );
            }
        }
    }
    shared.clock.changed.notify_one();
}

pub async fn run(shared: Arc<Shared>) {
    loop {
        let now = shared.clock.now_ms();
        let (due, next) = shared.scheduler.take_due(now);
        for job in due {
            fire(&shared, job);
        }
        let wait = match next {
            Some(at) if !shared.clock.is_frozen() => {
                Duration::from_millis((at - now).clamp(1, 1000) as u64)
            }
            _ => Duration::from_secs(1),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.clock.changed.notified() => {}
        }
    }
}

fn fire(shared: &Shared, job: Job) {
    let now_secs = shared.clock.now_secs();
    let (wamid, status, error) = match job {
        Job::Status { wamid, status } => (wamid, status, None),
        Job::Failed { wamid, error } => (wamid, "failed", Some(error)),
    };
    let status_object = {
        let mut state = shared.state.lock().expect("state lock");
        let Some(sent) = state.sent_mut(&wamid) else {
            return;
        };
        sent.statuses.push(StatusRecord {
            status: status.to_string(),
            timestamp: now_secs.to_string(),
        });
        let billed = matches!(status, "sent" | "delivered");
        StatusObject {
            id: wamid.clone(),
            status: status.to_string(),
            timestamp: now_secs.to_string(),
            recipient_id: sent.to.clone(),
            conversation: billed.then(|| Conversation {
                id: sent.conversation_id.clone(),
                expiration_timestamp: (status == "sent")
                    .then(|| (now_secs + 24 * 3600).to_string()),
                origin: Origin {
                    kind: sent.category.clone(),
                },
            }),
            pricing: billed.then(|| pricing(&sent.category)),
            biz_opaque_callback_data: sent.biz_opaque_callback_data.clone(),
            errors: error.as_ref().map(|e| vec![StatusError::from(e)]),
        }
    };
    let value = ChangeValue {
        messaging_product: "whatsapp",
        metadata: shared.metadata(),
        contacts: None,
        messages: None,
        statuses: Some(vec![status_object]),
    };
    let _ = shared.webhooks.send(Command::Send {
        kind: "statuses",
        value,
    });
}
