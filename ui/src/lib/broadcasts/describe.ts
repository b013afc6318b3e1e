import type { BroadcastAudience } from '../bindings/BroadcastAudience';
import type { Messages } from '../i18n/en';
import { format } from '../i18n/index.svelte';

/** "label “vip” and monthly_spend is more than 500", in the current language. */
export function describeAudience(a: BroadcastAudience, m: Messages['broadcasts']): string {
  const label = a.label !== null ? format(m.audienceLabel, { label: a.label }) : null;
  const attr = a.attribute
    ? format(m.audienceAttribute, { key: a.attribute.key, op: m.op[a.attribute.op], value: String(a.attribute.value) })
    : null;
  if (label && attr) return format(m.audienceAnd, { a: label, b: attr });
  return label ?? attr ?? '';
}
