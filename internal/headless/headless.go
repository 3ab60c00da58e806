// Package headless starts Debian's headless Chromium for browser tests
// (through chromedp), with flags that keep it offline and quiet, and skips
// the test with a clear message when no Chromium is installed.
package headless

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Candidates are the browser binaries looked for, in order, when
// $KURA_CHROMIUM is not set.
var Candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser", "google-chrome"}

// Find returns the Chromium binary: $KURA_CHROMIUM, or the first of
// Candidates found; "" when there is none.
func Find() string {
	if p := os.Getenv("KURA_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a headless Chromium with a fresh profile and returns a
// chromedp context for one tab, bounded by timeout (generous: CI runs the
// browser tests beside every other package's tests on two cores). It skips the test when
// no Chromium is installed (`apt-get install chromium`; .ci/run does it),
// unless $KURA_REQUIRE_CHROMIUM is 1 (set by .ci/run), when it fails.
func Browser(tb testing.TB, width, height int, timeout time.Duration) context.Context {
	tb.Helper()
	bin := Find()
	if bin == "" && os.Getenv("KURA_REQUIRE_CHROMIUM") == "1" {
		tb.Fatal("no Chromium found, and KURA_REQUIRE_CHROMIUM=1 requires the browser tests to run")
	}
	if bin == "" {
		tb.Skip("no Chromium found (install Debian's chromium package, or set KURA_CHROMIUM); skipping the browser test")
	}
	profile := tb.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tctx, cancelTime := context.WithTimeout(actx, timeout)
	ctx, cancelTab := chromedp.NewContext(tctx, chromedp.WithErrorf(tb.Logf))
	tb.Cleanup(func() {
		cancelTab()
		cancelTime()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		tb.Fatalf("starting %s: %v", bin, err)
	}
	return ctx
}

// Screenshot saves a full-page PNG (quality 100 is PNG in chromedp) as name in $KURA_SCREENSHOTS (kept for a
// person to look at) or else in the test's temporary directory, and returns
// its path. Screenshots are never written into the repository.
func Screenshot(tb testing.TB, ctx context.Context, name string) string {
	tb.Helper()
	dir := os.Getenv("KURA_SCREENSHOTS")
	if dir == "" {
		dir = tb.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Error(err)
	}
	tb.Logf("screenshot: %s", p)
	return p
}
