import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/svelte';
import { afterEach } from 'vitest';

// `waitFor` / `findBy*` wait for an event, not a fixed time: give them room on a loaded
// two-core CI machine (a passing test returns as soon as its condition holds).
configure({ asyncUtilTimeout: 5000 });

// Each test renders into a fresh document.
afterEach(() => cleanup());
