// Package e2e holds end-to-end tests that drive the latch example app in a
// real browser: headless Chromium, remote-controlled from Go with chromedp.
//
// The tests start the app in-process on 127.0.0.1 with a temporary SQLite
// store and click through what a person does: sign up, log in with and
// without "remember me", restart the browser, open the profile, log out. They
// check what the person sees (headings, flash messages, the navbar) and what
// a password manager, a screen reader or a keyboard user relies on (labels,
// autocomplete hints, role="alert", the tab order). They also check that a
// form on another site cannot post to the app, that pages load nothing from
// other origins and that no page logs an error, throws an exception or
// violates its Content-Security-Policy.
//
// The browser is found in this order: the path in LATCH_TEST_CHROMIUM,
// /usr/bin/chromium, then "chromium" on PATH. Without one the tests skip,
// unless LATCH_TEST_REQUIRE_SERVICES=1 (as in CI), which makes them fail.
// When LATCH_SCREENSHOTS_DIR is set, the tests write full-page PNG
// screenshots of each page, at desktop and at phone size, into that folder
// (a relative path is taken from the repository's root, as in
// LATCH_SCREENSHOTS_DIR=docs/screenshots go test ./e2e/).
//
// The tests of the account lifecycle (password reset, email verification
// and change, the account page) run the app as the latch command runs
// without an SMTP server: mail goes through the queue in the app's store to
// an outbox folder, with links built on the test server's address. The
// tests read the .eml files back as a mail client would, and open their
// links, or type their codes, in the browser.
//
// The package has no code outside its tests.
package e2e
