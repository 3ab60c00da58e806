package ingest

import (
	"context"
	"io"

	"github.com/kura-go/kura/conversation"
)

// Check reads every conversation of path (a file or directory, as Open
// takes it) and reports how many are valid and what is wrong, in the report
// type of conversation.CheckFile, so that exports are checked beside Kura's
// checkpoint files (and, with opts.CollectRefs, cross-checked with them).
// Reading goes on past invalid conversations. The format read is returned;
// the error is non-nil only if ctx is done.
func Check(ctx context.Context, path string, format Format, opts conversation.CheckOptions) (*conversation.Report, Format, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 20
	}
	if opts.MaxWarnings <= 0 {
		opts.MaxWarnings = 20
	}
	rep := &conversation.Report{Path: path, Kind: conversation.Conversations}
	problem := func(err error) {
		rep.NumProblems++
		if len(rep.Problems) < opts.MaxProblems {
			rep.Problems = append(rep.Problems, err)
		}
	}
	warn := func(err error) {
		rep.NumWarnings++
		if len(rep.Warnings) < opts.MaxWarnings {
			rep.Warnings = append(rep.Warnings, err)
		}
	}
	r, err := Open(path, Options{
		Format:       format,
		SkipInvalid:  opts.SkipInvalid,
		MaxLineBytes: opts.MaxLineBytes,
		OnSkip: func(err error) {
			if len(rep.Skips) < opts.MaxProblems {
				rep.Skips = append(rep.Skips, err)
			}
		},
		OnWarning: warn,
	})
	if err != nil {
		problem(err)
		return rep, format, nil
	}
	defer r.Close()
	rep.Path = r.Path()
	for {
		c, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				rep.Skipped = r.Stats().Skipped
				return rep, r.Format(), ctx.Err()
			}
			problem(err)
			if IsFatal(err) {
				break
			}
			continue
		}
		rep.Records++
		if opts.CollectRefs {
			rep.Collect(&c)
		}
	}
	rep.Skipped = r.Stats().Skipped
	if rep.Records == 0 && rep.Skipped == 0 && rep.NumProblems == 0 && rep.NumWarnings == 0 {
		warn(&Error{File: r.Path(), Msg: "no conversations"})
	}
	return rep, r.Format(), nil
}
