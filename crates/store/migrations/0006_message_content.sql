-- Schema 6: what a message shows beyond its text, and an encrypted cache of its media.
--
-- `content` is the typed content teamline-client parsed from the relay's message body
-- (location, contacts, reaction, quoted reply, interactive reply, template, media
-- metadata) as JSON; opaque to the store. Plain text messages that quote nothing leave it
-- NULL (their kind and text say everything), so bulk syncs of text pay nothing extra.
-- `reacts_to` is the wamid a reaction message reacts to, indexed so a timeline page can
-- gather the reactions of its messages in one query. `media_ready` / `media_size` record
-- the relay's `message.media_ready` (the bytes can be fetched from the relay).
ALTER TABLE messages ADD COLUMN content TEXT CHECK (content IS NULL OR json_valid(content));
ALTER TABLE messages ADD COLUMN reacts_to TEXT;
ALTER TABLE messages ADD COLUMN media_ready INTEGER NOT NULL DEFAULT 0 CHECK (media_ready IN (0, 1));
ALTER TABLE messages ADD COLUMN media_size INTEGER;

CREATE INDEX messages_by_reaction_target ON messages (reacts_to) WHERE reacts_to IS NOT NULL;

-- Media bytes fetched from the relay, inside the encrypted store (never as files), so
-- images show offline. Size-capped by the client: the least recently used go first.
CREATE TABLE media_cache (
    media_id    TEXT PRIMARY KEY,
    mime        TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    last_used   INTEGER NOT NULL
) STRICT;

CREATE INDEX media_cache_by_use ON media_cache (last_used);
