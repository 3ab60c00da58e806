package httpapi

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Redacted replaces a secret in redacted text.
const Redacted = "REDACTED"

// secretParam reports whether a query parameter's name says it carries a
// credential (api-key, key, access_token, sig, X-Amz-Signature, ...).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	if n == "key" || n == "sig" || n == "code" {
		return true
	}
	for _, s := range []string{"key", "token", "secret", "password", "passwd", "auth", "signature", "credential", "session"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns raw with its secrets replaced by REDACTED: the user
// info (user:password@) and the values of query parameters whose names say
// they carry a credential (api-key, key, token, sig, ...); other parameters,
// such as Azure's api-version, are kept. Text that does not parse as a URL is
// cleaned by pattern (anything between "//" and "@", and key=value pairs
// that look secret) rather than returned as it is.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return redactURLText(raw)
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.RawQuery)
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = redactQuery(u.Fragment), ""
	}
	return u.String()
}

// redactQuery redacts the secret values of a query string, keeping its order
// and the spelling of the other pairs.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if hasValue && secretParam(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// The patterns are compiled on first use: redaction is for errors and
// logs, and compiling them took a quarter of a millisecond of every kura
// start.
var (
	userInfoRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`//[^/@\s]*@`) })
	queryRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([?&#;]\s*)([^=&\s]+)=([^&\s"']*)`) })
)

func redactURLText(s string) string {
	s = userInfoRE().ReplaceAllString(s, "//"+Redacted+"@")
	return queryRE().ReplaceAllStringFunc(s, func(m string) string {
		sub := queryRE().FindStringSubmatch(m)
		if secretParam(sub[2]) {
			return sub[1] + sub[2] + "=" + Redacted
		}
		return m
	})
}

// redactURLError renders err, whose text may quote a URL (url.Error does),
// with the URLs' secrets redacted.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + RedactURL(ue.URL) + ": " + redactURLText(ue.Err.Error())
	}
	return redactURLText(err.Error())
}

var (
	bearerRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}`)
	})
	// Well-known key shapes: OpenAI (sk-...), Anthropic (sk-ant-...),
	// Hugging Face (hf_...), Google (AIza...).
	keyShapeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\b(sk-[A-Za-z0-9_-]{8,}|hf_[A-Za-z0-9]{8,}|AIza[A-Za-z0-9_-]{20,})`)
	})
	// "api-key": "…", api_key=…, Authorization: … inside echoed text.
	headerRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)("?(?:api[-_]?key|x-api-key|authorization|access[-_]token)"?\s*[:=]\s*"?)([^"\s,}&]{4,})`)
	})
)

// Redact returns text (a server's error body, a log line) with secrets
// replaced by REDACTED: each of the given secrets wherever it appears (the
// caller's API key, also when a server echoes it back), bearer and basic
// credentials, values of api-key/authorization fields, common key shapes
// (sk-..., hf_...), and URLs' user info and secret query parameters.
// Secrets shorter than 4 bytes are ignored (replacing them would garble the
// text and hide nothing).
func Redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, Redacted)
		}
	}
	text = bearerRE().ReplaceAllString(text, "${1} "+Redacted)
	text = headerRE().ReplaceAllStringFunc(text, func(m string) string {
		sub := headerRE().FindStringSubmatch(m)
		switch strings.ToLower(sub[2]) {
		case strings.ToLower(Redacted), "bearer", "basic":
			return m // already redacted by bearerRE
		}
		return sub[1] + Redacted
	})
	text = keyShapeRE().ReplaceAllString(text, Redacted)
	return redactURLText(text)
}

// RedactError is Redact for an error's text.
func RedactError(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	return Redact(redactURLError(err), secrets...)
}
