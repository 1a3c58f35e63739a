package latch

import "strings"

// Protection is how a [Manager] treats a session presented by another kind
// of browser than the one that logged in: Flask-Login's session
// protection. The kind is the browser and the operating system named by the
// User-Agent header, without versions, so that a browser's update keeps its
// sessions. A User-Agent is chosen by the client, so this stops only a
// stolen cookie replayed from another kind of browser, never a thief who
// copies the header too.
type Protection int

const (
	// ProtectionOff ignores the browser.
	ProtectionOff Protection = iota
	// ProtectionBasic keeps the session but treats it as not fresh for
	// each request from another kind of browser, so that
	// [Manager.RequireFresh] asks for the password there.
	ProtectionBasic
	// ProtectionStrong ends the session, and the remember-me login with
	// it, at the first request from another kind of browser.
	ProtectionStrong
)

// sameBrowser reports whether two User-Agent headers name the same browser
// on the same operating system.
func sameBrowser(a, b string) bool {
	return browserFamily(a) == browserFamily(b)
}

// browserFamily names the browser and system of a User-Agent, without
// versions: "Firefox on Linux". Tokens are tested in an order that copes
// with browsers naming others for compatibility (Edge says Chrome and
// Safari, Chrome says Safari, iOS says Mac OS X, Android says Linux).
func browserFamily(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgiOS/", "Edge"}, {"EdgA/", "Edge"}, {"OPR/", "Opera"},
		{"SamsungBrowser/", "Samsung Internet"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "" {
		// A program rather than a browser: its product name,
		// "curl/8.5.0" giving "curl".
		browser, _, _ = strings.Cut(ua, "/")
		browser, _, _ = strings.Cut(browser, " ")
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"iPhone", "iOS"}, {"iPad", "iOS"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	return browser + " on " + system
}
