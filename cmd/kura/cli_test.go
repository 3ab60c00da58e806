package main

import (
	"bytes"
	"context"
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
