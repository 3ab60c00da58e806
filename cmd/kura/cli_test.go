package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cliResult is what one in-process run of the kura CLI produced.
type cliResult struct {
	stdout, stderr string
	err            error
	code           int // the exit code main would return
}

// execCLI runs the kura CLI in-process with args, capturing its output.
func execCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return cliResult{stdout: out.String(), stderr: errb.String(), err: err, code: exitCode(err)}
}

// text returns stdout, the error's text ("" for none) and the exit code.
func (r cliResult) text() (stdout, errText string, code int) {
	if r.err != nil {
		errText = r.err.Error()
	}
	return r.stdout, errText, r.code
}

// outErr returns stdout and the error.
func (r cliResult) outErr() (string, error) { return r.stdout, r.err }

// all returns stdout, stderr, the error and the exit code.
func (r cliResult) all() (stdout, stderr string, err error, code int) {
	return r.stdout, r.stderr, r.err, r.code
}

func TestRootCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no arguments prints help", nil, 0, ""},
		{"misspelt command", []string{"loadtset"}, 2, `unknown command "loadtset" for "kura"; did you mean "loadtest"?`},
		{"unknown command", []string{"frobnicate", "x"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"--frobnicate"}, 2, "unknown flag"},
		{"bad log format", []string{"version", "--log-format", "xml"}, 2, "text or json"},
		{"version", []string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errText, code := execCLI(t, tt.args...).text()
			if code != tt.wantCode || !strings.Contains(errText, tt.wantErr) {
				t.Errorf("exit %d, error %q; want exit %d and an error containing %q", code, errText, tt.wantCode, tt.wantErr)
			}
		})
	}
}
