//! Sync against a real relay and whatsapp-sim: catch-up, replay safety, SSE → long-poll
//! fallback, 410 → full resync with progress, on-demand history.

mod common;

use common::*;
use teamline_client::{Client, ClientEvent, ConnectionState, Transport};
use teamline_core::Preset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_device_catches_up_100_events_each_applied_once() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let client = Client::open(options(&dir)).await.unwrap();
    assert_eq!(
        *client.connection_state().borrow(),
        ConnectionState::NotLinked
    );
    let code = env.code(Preset::Admin, "Ana").await;
    client
        .link(&env.relay_url, &code, &device("Front desk"))
        .await
        .unwrap();
    let linked_head = env.head();

    // The device is offline (not started) while 10 customers send 10 messages each.
    for i in 0..100u32 {
        let customer = format!("1555000{:04}", i % 10);
        env.customer_says(
            &customer,
            &format!("Customer {}", i % 10),
            &format!("order question {i}"),
        )
        .await;
    }
    env.wait_messages(100).await;
    let head = env.head();
    assert!(
        head >= linked_head + 100,
        "100 messages make at least 100 events"
    );

    let mut events = client.subscribe();
    client.start();
    // Applied batches are contiguous in seq and never overlap.
    let mut applied = Vec::new();
    within("batches up to the head", async {
        loop {
            if let ClientEvent::Applied {
                first_seq,
                last_seq,
                count,
                ..
            } = events.recv().await.unwrap()
                && count > 0
            {
                applied.push((first_seq, last_seq, count));
                if last_seq >= head {
                    return;
                }
            }
        }
    })
    .await;
    wait_state(&client, ConnectionState::Connected).await;
    let mut prev = 0;
    let mut total = 0;
    for (first, last, count) in &applied {
        assert!(*first > prev, "batches overlap: {applied:?}");
        assert!(last >= first);
        prev = *last;
        total += count;
    }
    assert_eq!(prev, head);
    assert_eq!(
        u64::from(total),
        head,
        "every event up to the head applied exactly once"
    );

    let (conversations, messages) = client
        .read(|s| {
            let cs = s.conversations()?;
            let mut n = 0;
            for c in &cs {
                n += s.messages(c.id, None, 1000)?.len();
            }
            Ok((cs, n))
        })
        .await
        .unwrap();
    assert_eq!(conversations.len(), 10);
    assert_eq!(messages, 100);
    assert!(conversations.iter().all(|c| c.unread_count == 10));
    let hits = client.read(|s| s.search("question 42", 10)).await.unwrap();
    assert_eq!(hits.len(), 1, "the synced text is searchable offline");

    // Restart: nothing is applied again, and the store still holds exactly 100.
    client.shutdown().await;
    drop(client);
    let again = Client::open(options(&dir)).await.unwrap();
    assert_eq!(again.cursor().await.unwrap(), head);
    let mut events = again.subscribe();
    again.start();
    wait_state(&again, ConnectionState::Connected).await;
    env.customer_says("15550000003", "Customer 3", "one more")
        .await;
    env.wait_messages(101).await;
    let after = env.head();
    wait_cursor(&again, after).await;
    let ev = wait_event(
        &mut events,
        "the new event",
        |e| matches!(e, ClientEvent::Applied { count, .. } if *count > 0),
    )
    .await;
    let ClientEvent::Applied {
        first_seq, count, ..
    } = ev
    else {
        unreachable!()
    };
    assert!(
        first_seq > head,
        "an event at or below the old cursor was applied again"
    );
    assert_eq!(u64::from(count), after - head);
    let n = again
        .read(|s| {
            let mut n = 0;
            for c in s.conversations()? {
                n += s.messages(c.id, None, 1000)?.len();
            }
            Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(n, 101);
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_streams_fall_back_to_long_poll() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let client = Client::open(options(&dir)).await.unwrap();
    let code = env.code(Preset::Standard, "Bo").await;
    // Through a proxy that cannot pass event streams.
    env.gate.set_break_sse(true);
    client
        .link(&env.gate.url, &code, &device("Behind a proxy"))
        .await
        .unwrap();
    let mut transport = client.transport();
    client.start();
    within(
        "long-poll",
        transport.wait_for(|t| *t == Transport::LongPoll),
    )
    .await
    .unwrap();
    wait_state(&client, ConnectionState::Connected).await;

    // A Standard device sees the team queue: a new customer's conversation arrives.
    env.customer_says("15550001111", "Cleo", "hello through long-poll")
        .await;
    env.wait_messages(1).await;
    let head = env.head();
    wait_cursor(&client, head).await;
    let conversations = client.read(|s| s.conversations()).await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].name.as_deref(), Some("Cleo"));
    assert_eq!(*client.transport().borrow(), Transport::LongPoll);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_cursor_triggers_a_full_resync_with_progress() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let client = Client::open(options(&dir)).await.unwrap();
    let code = env.code(Preset::Admin, "Ana").await;
    client
        .link(&env.relay_url, &code, &device("Laptop"))
        .await
        .unwrap();
    for i in 0..30u32 {
        env.customer_says(
            &format!("1555111000{}", i % 3),
            &format!("C{}", i % 3),
            &format!("hi {i}"),
        )
        .await;
    }
    env.wait_messages(30).await;
    let head = env.head();
    // Retention dropped every event: this device's cursor (0) is now too old.
    let cutoff = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let floor = env
        .storage
        .write(move |tx| tx.prune_before(cutoff))
        .await
        .unwrap();
    assert_eq!(floor, head);

    let mut events = client.subscribe();
    client.start();
    let mut progress = Vec::new();
    within("the resync", async {
        loop {
            match events.recv().await.unwrap() {
                ClientEvent::ResyncProgress(p) => progress.push((p.done, p.total)),
                ClientEvent::ResyncDone { cursor } => {
                    assert_eq!(cursor, head);
                    return;
                }
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(progress.last(), Some(&(3, 3)), "{progress:?}");
    assert!(
        progress.windows(2).all(|w| w[1].0 >= w[0].0),
        "progress only moves forward: {progress:?}"
    );
    assert!(progress.contains(&(0, 3)), "{progress:?}");
    assert_eq!(client.cursor().await.unwrap(), head);
    let (conversations, messages) = client
        .read(|s| {
            let cs = s.conversations()?;
            let mut n = 0;
            for c in &cs {
                n += s.messages(c.id, None, 1000)?.len();
            }
            Ok((cs.len(), n))
        })
        .await
        .unwrap();
    assert_eq!(conversations, 3);
    assert_eq!(messages, 30);

    // Sync continues from the head after the resync.
    env.customer_says("15551110001", "C1", "after resync").await;
    env.wait_messages(31).await;
    wait_cursor(&client, env.head()).await;
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_fetched_on_demand() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let client = Client::open(options(&dir)).await.unwrap();
    let code = env.code(Preset::Admin, "Ana").await;
    client
        .link(&env.relay_url, &code, &device("Laptop"))
        .await
        .unwrap();
    for i in 0..12u32 {
        env.customer_says("15552220000", "Dee", &format!("line {i}"))
            .await;
    }
    env.wait_messages(12).await;
    let conv = env.conversation_of("15552220000").await;
    let page = client.load_history(conv, None, 5).await.unwrap();
    assert_eq!(page.messages, 5);
    let older = client
        .load_history(conv, page.next_before, 5)
        .await
        .unwrap();
    assert_eq!(older.messages, 5);
    let n = client
        .read(move |s| s.messages(conv, None, 100))
        .await
        .unwrap()
        .len();
    assert_eq!(n, 10, "two pages of five landed in the store");
}

/// What an applied batch names is what a shell re-reads: the conversations a message or a
/// contact's new name changed (their rows read by id equal the whole list's), and "every
/// row" when a label is recoloured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_batches_name_the_inbox_rows_they_change() {
    let env = Env::start().await;
    let owner = owner(&env).await;
    owner.start();
    wait_state(&owner, ConnectionState::Connected).await;
    // The team's own events (members, devices) are behind us before customers write.
    wait_cursor(&owner, env.head()).await;
    let mut events = owner.subscribe();

    env.customer_says("15550000001", "Ana", "where is my parcel?")
        .await;
    env.customer_says("15550000002", "Bo", "hello").await;
    env.wait_messages(2).await;
    let ana = env.conversation_of("15550000001").await;
    let bo = env.conversation_of("15550000002").await;
    let mut named = std::collections::BTreeSet::new();
    within("both conversations named", async {
        while !(named.contains(&ana) && named.contains(&bo)) {
            if let Ok(ClientEvent::Applied {
                conversations,
                whole_inbox,
                ..
            }) = events.recv().await
            {
                assert!(!whole_inbox, "a message changes only its own row");
                named.extend(conversations);
            }
        }
    })
    .await;

    // Automation (e.g. a "New customer" label) may still change the rows: compare once
    // both reads agree, reading again after each applied batch.
    let stranger = uuid::Uuid::now_v7();
    within("rows by id equal the whole list's", async {
        loop {
            let whole = owner.inbox().await.unwrap();
            let by_id = owner.inbox_rows(vec![bo, stranger, ana]).await.unwrap();
            let from_whole = |id| whole.iter().find(|r| r.id == id).cloned().unwrap();
            // In the order asked; the unknown id left out.
            if by_id == vec![from_whole(bo), from_whole(ana)] {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;

    // A contact renamed on another screen: the relay's event names the conversation
    // even though this device already wrote the new name.
    let update = teamline_client::ContactUpdate {
        name: Some("Ana García".to_owned()),
        ..Default::default()
    };
    owner.update_contact("15550000001", &update).await.unwrap();
    wait_event(&mut events, "the rename named Ana's conversation", |e| {
        matches!(e, ClientEvent::Applied { conversations, whole_inbox: false, .. } if conversations.contains(&ana))
    })
    .await;
    let rows = owner.inbox_rows(vec![ana]).await.unwrap();
    assert_eq!(rows[0].customer_name, "Ana García");

    owner.create_label("VIP", "#ca8a04").await.unwrap();
    owner.recolour_label("VIP", "#db2777").await.unwrap();
    wait_event(&mut events, "a recoloured label changes every row", |e| {
        matches!(
            e,
            ClientEvent::Applied {
                whole_inbox: true,
                ..
            }
        )
    })
    .await;
    owner.shutdown().await;
}
