import type { AttributeValue } from '../bindings/AttributeValue';
import type { ContactFacts } from '../bindings/ContactFacts';
import type { DryRunResult } from '../bindings/DryRunResult';
import { parseAttribute } from './model';

/**
 * What the dry-run tab holds: kept by the section, so the pasted message and customer and
 * the last result survive a trip to the Rules tab to change something and run again.
 */
export class DryRunForm {
  message = $state('');
  name = $state('');
  isNew = $state(false);
  /** `datetime-local` value; empty evaluates at the relay's now. */
  at = $state('');
  interactions = $state(1);
  attributes = $state<{ key: string; value: string }[]>([{ key: 'monthly_spend_usd', value: '' }]);
  running = $state(false);
  result = $state<DryRunResult | null>(null);
  error = $state<string | null>(null);

  /**
   * The customer as the engine reads it. The name is an ordinary text attribute (`name`),
   * so attribute conditions can test it; an existing customer first wrote a month ago.
   */
  contact(now = Date.now()): ContactFacts {
    const attrs: Record<string, AttributeValue> = {};
    for (const a of this.attributes) {
      const key = a.key.trim();
      if (key !== '' && a.value.trim() !== '') attrs[key] = parseAttribute(a.value);
    }
    if (this.name.trim() !== '') attrs.name = this.name.trim();
    return {
      id: 'dry-run',
      first_contact_at: this.isNew ? null : new Date(now - 30 * 86_400_000).toISOString(),
      interactions: Math.max(1, Math.round(Number(this.interactions) || 1)),
      attributes: attrs,
      auto_replies_sent: [],
    };
  }

  /** The chosen time as RFC 3339, or undefined for now. */
  when(): string | undefined {
    if (this.at === '') return undefined;
    const at = new Date(this.at);
    return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
  }
}
