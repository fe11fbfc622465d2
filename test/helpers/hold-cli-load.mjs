// Preloaded with `node --import` by a test: holds herd's CLI on the main thread while its modules
// are evaluated (after bin/herd.js has run its first line), so a signal can be sent at exactly the
// moment the event loop cannot handle it yet. HERD_TEST_HOLD names a folder: `loading` appears
// there when herd is held, and the test creates `go` to let it continue (the hold ends by itself
// after 60 s).
import { register } from 'node:module';

register('./hold-cli-load-hooks.mjs', import.meta.url, { data: { dir: process.env.HERD_TEST_HOLD } });
