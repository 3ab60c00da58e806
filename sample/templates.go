package sample

// Templates shared by all topics. Slots in braces are filled from the
// topic's vocabulary; a capitalised slot name ({Persona}) capitalises the
// first letter of the value. Every summary template uses {persona},
// {action}, {subject}, {detail} and {fact} exactly once, and the summary
// always ends with an outcome sentence: together these carry the
// conversation's combination index (see Generator), which is what makes
// summaries unique.

var summaryTemplates = []string{
	"The user, {persona}, asked for help to {action} {subject} {detail}. {fact}",
	"{Persona} wanted to {action} {subject} {detail} and asked the assistant for guidance. {fact}",
	"The conversation is about how to {action} {subject} {detail}; the user describes themselves as {persona}. {fact}",
	"Seeking advice as {persona}, the user asked how to {action} {subject} {detail}. {fact}",
	"The user requested step-by-step guidance to {action} {subject} {detail}, explaining that they are {persona}. {fact}",
	"In this conversation {persona} asks the assistant to help {action} {subject} {detail}. {fact}",
	"{fact} The user, who is {persona}, needed to {action} {subject} {detail}.",
	"The user is {persona} trying to {action} {subject} {detail}. {fact}",
}

var outcomeTemplates = []string{
	"The assistant explained {term1} and {term2} and suggested a concrete plan.",
	"The assistant walked through {term1}, pointed out common mistakes with {term2}, and gave an example.",
	"The assistant provided a step-by-step answer covering {term1} and {term2}.",
	"After a clarifying question, the assistant recommended an approach based on {term1} and {term2}.",
	"The assistant compared options involving {term1} and {term2} and summarized the trade-offs.",
	"The assistant gave a concise checklist focused on {term1}, with a note about {term2}.",
}

var followUpSummary = []string{
	"In a follow-up, the user asked about {term4}.",
	"The user then asked for more detail on {term4}.",
	"Later the user wanted a shorter answer focused on {term4}.",
}

var frustrationSummary = []string{
	"The user became frustrated when the first answer missed the point.",
	"The user was visibly impatient with the assistant's initial response.",
	"The user expressed annoyance that the advice did not work the first time.",
}

var requestTemplates = []string{
	"The user's overall request for the assistant is to help them {action} {subject} {detail}.",
	"The user's overall request for the assistant is to explain how to {action} {subject} {detail}.",
	"The user's overall request for the assistant is to provide practical advice to {action} {subject}.",
}

var taskTemplates = []string{
	"The task is to help {persona} {action} {subject} {detail}.",
	"The task is to give step-by-step guidance on how to {action} {subject}, focusing on {term1}.",
	"The task is to provide advice and examples for how to {action} {subject} {detail}.",
}

var userOpenings = []string{
	"Hi, I'm {persona} and I need to {action} {subject} {detail}. {fact1} Where should I start?",
	"Can you help me {action} {subject} {detail}? {fact1}",
	"I've been trying to {action} {subject} {detail} and I'm stuck. {fact1} Any advice?",
	"Quick question: what's the best way to {action} {subject} {detail}? {fact1}",
	"{fact1} I want to {action} {subject} {detail}. Could you walk me through it?",
	"As {persona}, I'm not sure how to {action} {subject} {detail}. {fact1} What would you recommend?",
}

var assistantReplies = []string{
	"Sure! To {action} {subject} {detail}, start with {term1}. Then look at {term2}, and finally double-check {term3}. {tip}",
	"Good question. {tip} After that, focus on {term1} and {term2}; they make the biggest difference here. If you tell me more about {term3}, I can tailor this further.",
	"Here is a plan in three steps. First, review {term1}. Second, work on {term2}. Third, keep an eye on {term3}. {tip}",
	"Happy to help. The key things to consider are {term1}, {term2} and {term3}. {tip} Let me know how it goes.",
}

var userFollowUps = []string{
	"Thanks. What about {term4}? I'm not sure how that fits in.",
	"That makes sense. Could you give me a concrete example involving {term4}?",
	"Can you make that shorter and focus on {term4}?",
	"OK, and how do I know if {term4} is going well?",
	"Hmm, I tried that and it didn't really work. What else can I do about {term4}?",
}

var assistantFollowUps = []string{
	"Good point. With {term4}, the main thing is to be consistent and to check it against {term1}. {tip2}",
	"Here's an example: say you {action} {subject} and start by adjusting {term4}; you would then compare the result with {term2}. {tip2}",
	"In short: prioritise {term4}, keep {term1} simple, and review the result after a few days. {tip2}",
	"That's a common issue. Try approaching {term4} differently and change one thing at a time so you can see what helps. {tip2}",
}

var userClosings = []string{
	"Thanks, that's really helpful!",
	"Great, I'll try that tonight.",
	"Perfect, thank you.",
	"OK, I think I've got it now.",
}

var errorTemplates = []string{
	"The assistant initially ignored the constraint that the work had to be done {detail}.",
	"The assistant gave an inaccurate explanation of {term1} before correcting itself.",
	"The assistant's first answer was too generic and did not address {term2}.",
	"The assistant misunderstood the request and first described how to {action2} {subject}.",
}

var models = []string{
	"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b-instruct", "gemini-1.5-pro", "mistral-large",
}
