// Package browser holds the browser tests of the local stack: headless Chromium, driven
// through the DevTools protocol, opens the emailed confirmation link and the mail catcher's
// page as a person would, without the tests knowing how the pages are built.
package browser
