// Trunk's post_build hook: the page's loader (entries.mjs), then its policy (csp.mjs), in that
// order and never at once — the policy hashes the loader's final text, and Trunk runs the hooks
// of one stage concurrently.
//
//   node scripts/post-build.mjs        # as the hook: on $TRUNK_STAGING_DIR
//   node scripts/post-build.mjs DIR    # by hand, on a built site
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const script of ['entries.mjs', 'csp.mjs']) {
  try {
    execFileSync(process.execPath, [path.join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  } catch (e) {
    process.exit(e.status ?? 1);
  }
}
