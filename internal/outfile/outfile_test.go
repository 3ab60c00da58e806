package outfile

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Abort leaves the old file and no temporary file.
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	f.Abort()
	f.Abort()
	assertFile(t, target, "old\n")
	assertOnly(t, dir, "labels.txt")

	// Until Commit the target keeps its old content; Commit replaces it
	// and keeps its mode.
	f, err = Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new\n")
	assertFile(t, target, "old\n")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no-op after Commit
	assertFile(t, target, "new\n")
	assertOnly(t, dir, "labels.txt")
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing", "out.txt"), "out.txt: directory " + filepath.Join(dir, "missing") + " does not exist"},
		{filepath.Join(file, "out.txt"), "is not a directory"},
		{dir, "is a directory"},
	} {
		_, err := Create(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%s) = %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
}

func TestCheckDistinct(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "v.npy")
	os.WriteFile(in, []byte("x"), 0o644)
	link := filepath.Join(dir, "link.npy")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.npy")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	rel := filepath.Join(".", "sub", "..", "v.npy")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, tc := range []struct {
		name    string
		inputs  []string
		outputs []string
		want    string // "" for no error
	}{
		{"distinct", []string{in}, []string{filepath.Join(dir, "a"), filepath.Join(dir, "b"), "-", ""}, ""},
		{"repeated input", []string{in, in}, []string{filepath.Join(dir, "a")}, ""},
		{"output is input", []string{in}, []string{in}, "refusing to overwrite the input"},
		{"output is input, relative", []string{in}, []string{rel}, "refusing to overwrite the input"},
		{"output is a symlink to input", []string{in}, []string{link}, "refusing to overwrite the input"},
		{"output is a hard link to input", []string{in}, []string{hard}, "refusing to overwrite the input"},
		{"two outputs the same", []string{in}, []string{filepath.Join(dir, "a"), filepath.Join(dir, ".", "a")}, "are the same file"},
		{"stdout twice", []string{in}, []string{"-", "-"}, ""},
		{"missing output dir", []string{in}, []string{filepath.Join(dir, "no", "a")}, "does not exist"},
	} {
		err := CheckDistinct(tc.inputs, tc.outputs)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Errorf("%s = %q, %v; want %q", path, b, err, want)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.json")
	for _, want := range []string{"first", "second, longer"} {
		if err := WriteFile(p, []byte(want)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Fatalf("got %q, %v; want %q", b, err, want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "missing", "x"), nil); err == nil {
		t.Error("missing directory: want an error")
	}
}

// TestCheckDirUnwritable checks that a directory that exists but does not
// take new files is reported before any work (kura embed used to find out
// after the API calls were billed).
func TestCheckDirUnwritable(t *testing.T) {
	dirs := []string{"/proc"} // read-only for root too
	if os.Geteuid() != 0 {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, ro)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Logf("%s: %v; case skipped", d, err)
			continue
		}
		out := filepath.Join(d, "kura-out.npy")
		err := CheckDir(out)
		if err == nil || !strings.Contains(err.Error(), "cannot create files in "+d) {
			t.Errorf("CheckDir(%s) = %v, want 'cannot create files in %s'", out, err, d)
		}
	}
	ok := t.TempDir()
	if err := CheckDir(filepath.Join(ok, "x.json")); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(ok); len(left) != 0 {
		t.Errorf("probe left %v behind", left)
	}
}

func TestMove(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "model.bin")
	part := filepath.Join(dir, "model.bin.part")
	for _, tc := range []struct {
		name    string
		old     bool   // a file already at final
		tmp     bool   // the temporary exists
		target  string // final's path, if not final
		wantErr string
		want    string // final's content after
		left    []string
	}{
		{name: "new", tmp: true, want: "new", left: []string{"model.bin"}},
		{name: "replaces", old: true, tmp: true, want: "new", left: []string{"model.bin"}},
		{name: "no temporary", old: true, wantErr: "model.bin.part", want: "old", left: []string{"model.bin"}},
		{name: "missing directory", tmp: true, target: filepath.Join(dir, "gone", "model.bin"), wantErr: "gone", left: []string{"model.bin.part"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(final)
			os.Remove(part)
			if tc.old {
				os.WriteFile(final, []byte("old"), 0o644)
			}
			if tc.tmp {
				os.WriteFile(part, []byte("new"), 0o644)
			}
			target := final
			if tc.target != "" {
				target = tc.target
			}
			err := Move(part, target)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Move: %v, want error containing %q", err, tc.wantErr)
			}
			if tc.want != "" {
				assertFile(t, final, tc.want)
			}
			assertOnly(t, dir, tc.left...)
		})
	}
}

// A temporary file left by a process killed mid-write is removed by
// RemoveStaleTemps; a live process's, and files not in Create's pattern,
// are not.
func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	f, err := Create(out) // this process's: alive
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if pid, ok := staleTempPID(filepath.Base(f.File.Name())); !ok || pid != os.Getpid() {
		t.Fatalf("Create's temporary %s is not in the pattern RemoveStaleTemps removes", f.File.Name())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(cmd.Process.Pid)
	stale := filepath.Join(dir, ".results.json.pid"+dead+"-123.tmp")
	keep := []string{
		filepath.Join(dir, "results.json.pid"+dead+"-123.tmp"),   // not hidden
		filepath.Join(dir, ".results.json.pid"+dead+"-123.tmp2"), // another suffix
		filepath.Join(dir, ".results.json."+dead+"-123.tmp"),     // no pid tag
		filepath.Join(dir, ".results.json.pid"+dead+".tmp"),      // no random part
		filepath.Join(dir, "notes.tmp"),
	}
	for _, p := range append([]string{stale}, keep...) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStaleTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v, want only %s", removed, stale)
	}
	for _, p := range append(keep, f.File.Name()) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}

// WriteNew claims a name and fills it in one step: of racing writers one
// gets the name with its whole content, the others fs.ErrExist; no
// temporary file is left.
func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.json")
	const racers = 8
	errs := make(chan error, racers)
	for i := range racers {
		go func() { errs <- WriteNew(p, []byte(strings.Repeat(strconv.Itoa(i), 1000))) }()
	}
	won := 0
	for range racers {
		err := <-errs
		switch {
		case err == nil:
			won++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("WriteNew: %v, want fs.ErrExist", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers got the name, want 1", won)
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) != 1000 || strings.Count(string(b), string(b[:1])) != 1000 {
		t.Errorf("content %q..., %v: not one writer's whole content", b[:min(len(b), 10)], err)
	}
	assertOnly(t, dir, "results.json")
	if err := WriteNew(filepath.Join(dir, "gone", "x.json"), []byte("x")); err == nil {
		t.Error("WriteNew into a missing directory succeeded")
	}
	assertOnly(t, dir, "results.json")
}

// TestStaleTempPID checks the hand-written matcher against the regular
// expression it replaced, on the names Create makes and on near misses
// built from their parts.
func TestStaleTempPID(t *testing.T) {
	re := regexp.MustCompile(`^\..+\.pid([0-9]{1,10})-[0-9]+\.tmp$`)
	parts := []string{"", ".", "a", "v", ".npy", ".pid", "pid", "1", "12345", "12345678901", "-", "-7", ".tmp", "tmp", "\n", "\r", "é", ".pid1", "-x"}
	var names []string
	var build func(prefix string, depth int)
	build = func(prefix string, depth int) {
		names = append(names, prefix)
		if depth == 0 {
			return
		}
		for _, p := range parts {
			build(prefix+p, depth-1)
		}
	}
	build("", 4)
	names = append(names, ".stats.json.pid4242-1.tmp", ".a.pid1.pid2-3.tmp", ".x.pid1234567890-99.tmp", ".x.pid12345678901-9.tmp",
		".x\n.pid1-2.tmp", "..pid1-2.tmp", ".pid1-2.tmp", ".x.pid-2.tmp", ".x.pid1-.tmp", ".x.pid1-2.tmp\n", "x.x.pid1-2.tmp")
	for _, name := range names {
		// The expression's match, read as a PID as RemoveStaleTemps
		// read it: a positive number.
		var want int
		m := re.FindStringSubmatch(name)
		if m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		wantOK := want > 0
		if !wantOK {
			want = 0
		}
		got, ok := staleTempPID(name)
		if ok != wantOK || got != want {
			t.Fatalf("staleTempPID(%q) = %d, %v; the expression gives %v (%d)", name, got, ok, m, want)
		}
	}
}
