package contact

import (
	"context"
	"fmt"
)

// absent stands in for a port a function was not given (each function is given only the
// adapters it calls: config.Ports). Its calls fail as a failed call of the real adapter
// does: what they were for stays owed, for a function that has the port to finish, and
// nothing is lost.
type absent string

func (a absent) missing() error { return fmt.Errorf("this function has no %s", string(a)) }

func (a absent) Notify(context.Context, Notice) error                   { return a.missing() }
func (a absent) Start(context.Context, Change) error                    { return a.missing() }
func (a absent) Continue(context.Context, string) error                 { return a.missing() }
func (a absent) Stop(context.Context, string, State) error              { return a.missing() }
func (a absent) Status(context.Context, Change) (WorkflowStatus, error) { return "", a.missing() }

var (
	_ Notifier = absent("")
	_ Workflow = absent("")
)
