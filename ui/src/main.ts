import { mount } from 'svelte';
import App from './App.svelte';
import { selectBackend } from './lib/backend/select';
import { i18n } from './lib/i18n/index.svelte';
import './app.css';

// Start-up marks, read by the inbox benchmark (`cargo xtask bench inbox`).
performance.mark('teamline:script');
const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');

const backend = selectBackend();
// The first paint should already be in the OS language, which only the app can tell for sure;
// the session, asked at the same time, lets the inbox read its first screen as the window mounts.
const [info, session] = await Promise.all([
  backend.appInfo().catch(() => null),
  backend.session().catch(() => null),
]);
i18n.followOs(info?.os_locale ?? null);
performance.mark('teamline:app-info');

export default mount(App, { target, props: { backend, info, session } });
