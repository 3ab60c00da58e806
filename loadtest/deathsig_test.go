package loadtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kura-go/kura/cluster"
)

// parentEnv makes this test binary a load test whose worker hangs; its
// value is the file the worker writes its PID to.
const parentEnv = "KURA_LOADTEST_TEST_PARENT"

// hangWorker writes the worker's PID to pidFile and sleeps forever.
func hangWorker(pidFile string) {
	if err := os.WriteFile(pidFile+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o644); err == nil {
		os.Rename(pidFile+".tmp", pidFile)
	}
	select {}
}

// parentOfHangingWorker runs a load test whose worker hangs, until killed.
func parentOfHangingWorker(pidFile string) {
	c := DefaultConfig()
	c.Scales = []int{30}
	c.SampleConversations, c.SampleTopics = 30, 3
	c.Cluster = cluster.Spec{Algorithm: "kmeans", K: 3, Seed: 1}
	c.Quiet = true
	r := &Runner{Toolkit: testToolkit(), Worker: workerCmd(workerEnv + "_HANG=" + pidFile)}
	r.Run(context.Background(), c)
	os.Exit(0)
}

// gone reports whether pid has ended (a zombie waiting to be reaped by
// whoever adopted it counts as ended: it runs nothing and holds no memory).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// A load test killed with SIGKILL leaves no worker running (issue 13: the
// worker was orphaned and went on), and the scale's temporary directory it
// could not remove is removed by the next load test (it was left for ever).
func TestKilledLoadtestLeavesNoWorker(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	pidFile := filepath.Join(t.TempDir(), "worker.pid")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the parent's, its worker's and the next run's
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), parentEnv+"="+pidFile)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill()
	var worker int
	// Bounds below are for a hung test, not performance assertions.
	for deadline := time.Now().Add(60 * time.Second); worker == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the worker never started")
		}
		if b, err := os.ReadFile(pidFile); err == nil {
			worker, _ = strconv.Atoi(string(b))
		}
	}
	defer syscall.Kill(worker, syscall.SIGKILL) // if the fix fails, leave no orphan
	if gone(worker) {
		t.Fatal("the worker ended before its parent was killed")
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	for deadline := time.Now().Add(10 * time.Second); !gone(worker); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d still runs after its parent was killed", worker)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, tempPrefix+"pid"+strconv.Itoa(parent.Process.Pid)+"-30-*"))
	if len(left) != 1 {
		t.Fatalf("the killed load test's scale directory: %v, want one left to clean up", left)
	}
	// The next load test removes it (and keeps its own until done).
	cfg := testConfig(t)
	if _, err := (&Runner{Toolkit: testToolkit()}).Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in the temporary directory after the next run: %v", names)
	}
}
