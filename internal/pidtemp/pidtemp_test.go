package pidtemp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPID(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int
		ok   bool
	}{
		{"kura-x-pid42-100-123", 42, true},
		{"kura-x-pid42-", 42, true},
		{"kura-x-pid42", 0, false},            // no dash after the digits
		{"kura-x-pid-100-123", 0, false},      // no digits
		{"kura-x-pid0-1-2", 0, false},         // not a process
		{"kura-x-pid4a-1-2", 0, false},        // not digits
		{"kura-x-100-123", 0, false},          // the old naming, without pid
		{"other-pid42-1-2", 0, false},         // someone else's prefix
		{"kura-x-pid99999999999-1", 0, false}, // too long
	} {
		pid, ok := PID(tc.name, "kura-x-")
		if pid != tc.pid || ok != tc.ok {
			t.Errorf("PID(%q) = %d, %v; want %d, %v", tc.name, pid, ok, tc.pid, tc.ok)
		}
	}
}

// deadPID returns the ID of a process that has ended and been reaped.
func deadPID(t *testing.T) int {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	dead := deadPID(t)
	if !Dead(dead) {
		t.Skipf("pid %d was reused already", dead)
	}
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "input"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "input", "data.jsonl"), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pfx := "kura-x-"
	staleDir := mk(pfx + "pid" + strconv.Itoa(dead) + "-100-1")
	staleFile := filepath.Join(dir, pfx+"pid"+strconv.Itoa(dead)+"-f")
	os.WriteFile(staleFile, nil, 0o644)
	mine, err := MkdirTemp(dir, pfx, "100")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := PID(filepath.Base(mine), pfx); !ok || p != os.Getpid() {
		t.Fatalf("MkdirTemp made %s, not named for this process", mine)
	}
	live := mk(pfx + "pid" + strconv.Itoa(os.Getppid()) + "-100-1") // the go command, running
	other := mk("kura-y-pid" + strconv.Itoa(dead) + "-100-1")       // not our pattern
	old := mk("kura-x-100-1")                                       // not named for a process
	// A link named like a stale dir, pointing at a directory that must survive.
	target := mk("precious")
	link := filepath.Join(dir, pfx+"pid"+strconv.Itoa(dead)+"-link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	// A link inside a stale dir: removing the dir must not follow it.
	if err := os.Symlink(target, filepath.Join(staleDir, "out")); err != nil {
		t.Fatal(err)
	}

	removed, err := RemoveStale(dir, pfx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(removed, ","), staleDir+","+staleFile; got != want && got != staleFile+","+staleDir {
		t.Errorf("removed %v, want %s and %s", removed, staleDir, staleFile)
	}
	for _, p := range []string{mine, live, other, old, link, filepath.Join(target, "input", "data.jsonl")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	for _, p := range []string{staleDir, staleFile} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
}

func TestDead(t *testing.T) {
	if Dead(os.Getpid()) || Dead(os.Getppid()) {
		t.Error("a running process is dead")
	}
	if Dead(0) || Dead(-1) {
		t.Error("0 or -1 is dead")
	}
}
