/** A compact built-in emoji set (no network), grouped, each with English search words. */
export type Emoji = { char: string; name: string };
export type EmojiGroup = { id: 'smileys' | 'gestures' | 'hearts' | 'objects' | 'food' | 'travel'; emoji: Emoji[] };

const e = (char: string, name: string): Emoji => ({ char, name });

export const EMOJI: EmojiGroup[] = [
  {
    id: 'smileys',
    emoji: [
      e('😀', 'grinning face smile happy'),
      e('😃', 'smiley big eyes happy'),
      e('😄', 'smile laugh happy'),
      e('😁', 'beaming grin'),
      e('😅', 'sweat smile relief'),
      e('😂', 'joy tears laugh'),
      e('🙂', 'slightly smiling'),
      e('😉', 'wink'),
      e('😊', 'blush smiling eyes'),
      e('😍', 'heart eyes love'),
      e('🤩', 'star struck wow'),
      e('😘', 'kiss blowing'),
      e('🤔', 'thinking hmm'),
      e('😐', 'neutral face'),
      e('😴', 'sleeping tired'),
      e('😎', 'cool sunglasses'),
      e('🥳', 'party celebrate'),
      e('😢', 'crying sad tear'),
      e('😭', 'sobbing loud cry'),
      e('😡', 'angry pouting'),
      e('😱', 'scream fear shock'),
      e('🙏', 'pray please thanks folded hands'),
    ],
  },
  {
    id: 'gestures',
    emoji: [
      e('👍', 'thumbs up ok yes like'),
      e('👎', 'thumbs down no dislike'),
      e('👌', 'ok hand perfect'),
      e('👏', 'clap applause'),
      e('🙌', 'raising hands hooray'),
      e('👋', 'wave hello bye'),
      e('🤝', 'handshake deal'),
      e('💪', 'muscle strong'),
      e('✌️', 'victory peace'),
      e('🤞', 'fingers crossed luck'),
    ],
  },
  {
    id: 'hearts',
    emoji: [
      e('❤️', 'red heart love'),
      e('🧡', 'orange heart'),
      e('💛', 'yellow heart'),
      e('💚', 'green heart'),
      e('💙', 'blue heart'),
      e('💜', 'purple heart'),
      e('💔', 'broken heart'),
      e('✨', 'sparkles shine'),
      e('⭐', 'star'),
      e('🔥', 'fire hot lit'),
      e('✅', 'check mark done yes'),
      e('❌', 'cross mark no wrong'),
      e('⚠️', 'warning caution'),
      e('❓', 'question mark'),
    ],
  },
  {
    id: 'objects',
    emoji: [
      e('📦', 'package box parcel delivery order'),
      e('🚚', 'delivery truck shipping'),
      e('🧾', 'receipt invoice'),
      e('💳', 'credit card payment'),
      e('💰', 'money bag'),
      e('🎁', 'gift present'),
      e('📞', 'telephone call phone'),
      e('📧', 'email mail'),
      e('📅', 'calendar date'),
      e('⏰', 'alarm clock time'),
      e('🔑', 'key'),
      e('📍', 'pin location'),
      e('🛒', 'shopping cart'),
      e('🏷️', 'label tag price'),
    ],
  },
  {
    id: 'food',
    emoji: [e('☕', 'coffee hot drink'), e('🍕', 'pizza'), e('🍰', 'cake shortcake'), e('🍎', 'apple'), e('🍷', 'wine glass')],
  },
  {
    id: 'travel',
    emoji: [e('✈️', 'airplane flight travel'), e('🚗', 'car'), e('🏠', 'house home'), e('🏪', 'shop store'), e('🌍', 'globe world')],
  },
];

/** Emoji whose English words start with every word of `query` (all when empty). */
export function searchEmoji(query: string): Emoji[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const all = EMOJI.flatMap((g) => g.emoji);
  if (words.length === 0) return all;
  return all.filter((x) => {
    const names = x.name.split(' ');
    return words.every((w) => names.some((n) => n.startsWith(w)));
  });
}
