// English is the source language: every other language must have exactly these keys.
export const en = {
  app: { name: 'Teamline', tagline: 'One WhatsApp number, one calm team inbox' },
  nav: {
    label: 'Sections',
    inbox: 'Inbox',
    contacts: 'Contacts',
    broadcasts: 'Broadcasts',
    automation: 'Automation',
    team: 'Team',
    audit: 'Audit',
    reports: 'Reports',
    settings: 'Settings',
    shortcut: 'Alt+{n}',
  },
  sections: {
    inbox: {
      subtitle: 'Every customer conversation on your shared number',
      emptyTitle: 'No conversations yet',
      emptyBody:
        'When customers write to your WhatsApp Business number, their conversations appear here for the whole team — who is handling what, and who is waiting.',
    },
    contacts: {
      subtitle: 'Customers, their labels and history',
      emptyTitle: 'No contacts yet',
      emptyBody:
        'Everyone who writes to your number becomes a contact. You can also import a list from a CSV file once this device is linked.',
    },
    broadcasts: {
      subtitle: 'Approved templates sent to many customers at once',
      emptyTitle: 'No broadcasts yet',
      emptyBody:
        'Send an approved template to customers chosen by label, with a daily cap that keeps your number safe.',
    },
    automation: {
      subtitle: 'Routing, business hours, auto-replies and SLAs',
      emptyTitle: 'No rules yet',
      emptyBody:
        'Rules label, assign and answer conversations for you — for example, send #urgent to supervisors or reply outside business hours.',
    },
    team: {
      subtitle: 'Members, devices and what each may do',
      emptyTitle: 'Your team is not set up on this device',
      emptyBody:
        'Members, their permissions and every linked device appear here once this device is linked to your team’s relay.',
    },
    audit: {
      subtitle: 'Who changed what, in a log that cannot be quietly edited',
      emptyTitle: 'Nothing recorded yet',
      emptyBody:
        'Every change to members, devices and permissions is recorded here with who made it, from where and when.',
    },
    reports: {
      subtitle: 'Response times, volumes and SLAs',
      emptyTitle: 'No data to report yet',
      emptyBody:
        'Reports fill in as your team answers customers: first-response times, conversations per member and SLA breaches.',
    },
    settings: { subtitle: 'This device, language and appearance' },
  },
  empty: { linkAction: 'Link this device', linkHint: 'Settings › Connection' },
  settings: {
    general: 'General',
    connection: 'Connection',
    about: 'About',
    language: 'Language',
    languageHint: 'The app follows your system language until you choose one here.',
    systemLanguage: 'System ({lang})',
    theme: 'Theme',
    themeSystem: 'System',
    themeLight: 'Light',
    themeDark: 'Dark',
    connectionTitle: 'Team relay',
    connectionBody:
      'This device talks to your team’s relay, which receives WhatsApp messages for the shared number. An admin gives you a pairing code to link it.',
    version: 'Version',
    dataDir: 'Data folder',
    buildProfile: 'Build',
    os: 'Operating system',
    loading: 'Loading…',
    copy: 'Copy',
    copied: 'Copied',
  },
  connection: {
    not_linked: 'Not linked to a team',
    connected: 'Connected',
    reconnecting: 'Reconnecting in {n} s',
    offline: 'Offline — replies wait in the outbox',
    unlinked: 'This device was unlinked by an admin',
    checking: 'Checking connection…',
  },
  errors: {
    title: 'Something went wrong',
    retry: 'Try again',
    data_dir_unavailable: 'Teamline cannot find or create its data folder.',
    internal: 'An unexpected error happened inside Teamline.',
    ipc_unavailable: 'The Teamline window is not connected to the app.',
  },
  shortcuts: { title: 'Keyboard shortcuts', goTo: 'Go to {section}', help: 'Show this help', close: 'Close' },
} as const;

/** The shape every language must fill: the same keys, any text. */
type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };
export type Messages = Widen<typeof en>;
