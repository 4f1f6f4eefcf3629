package natsx

import "fmt"

const (
	KindStream   = "stream"
	KindConsumer = "consumer"

	ActionCreated   = "created"
	ActionUpdated   = "updated"
	ActionUnchanged = "unchanged"
	// ActionRecreated: a durable the server would not update in place was deleted and created.
	ActionRecreated = "recreated"
)

// Step is what provisioning did to one stream or durable consumer.
type Step struct {
	Kind     string
	Stream   string
	Name     string
	Action   string
	Replicas int
}

func (s Step) String() string {
	name := s.Name
	if s.Kind == KindConsumer {
		name = s.Stream + "/" + s.Name
	}
	return fmt.Sprintf("%s %s: %s, replicas %d", s.Kind, name, s.Action, s.Replicas)
}
