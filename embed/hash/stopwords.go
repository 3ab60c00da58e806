package hash

// stopWords are common English function words that carry no topic. The list
// is a compact union of the usual function words (articles, pronouns,
// auxiliaries, prepositions, conjunctions), written for this package.
var stopWords = toSet(`a about above after again against all also am an and any are as at
be because been before being below between both but by can could did do does doing done
down during each either else etc even ever every few for from further had has have having
he her here hers herself him himself his how however i if in into is it its itself just
let like may me might more most must my myself no nor not now of off on once only or other
our ours ourselves out over own per rather same shall she should so some such than that
the their theirs them themselves then there these they this those though through thus to
too under until up upon us very via was we were what when where whether which while who
whom whose why will with within without would yet you your yours yourself yourselves
s t d ll m re ve`)

func toSet(s string) map[string]bool {
	m := make(map[string]bool)
	word := []byte{}
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\n' {
			if len(word) > 0 {
				m[string(word)] = true
				word = word[:0]
			}
			continue
		}
		word = append(word, s[i])
	}
	return m
}
