package schemas

import "fmt"

const ServiceUsageAggregator = "usage-aggregator"

// Permission is what an admin credential must grant to run a command.
type Permission string

const (
	PermissionAdminRead  Permission = "admin:read"
	PermissionAdminWrite Permission = "admin:write"
)

// AdminCommand is one admin command: the REST route of the edge, the endpoint its owner registers
// and the NATS permissions of both are derived from this table.
type AdminCommand struct {
	Resource   string
	Verb       string
	Owner      string
	Permission Permission
}

func (c AdminCommand) Subject() string { return AdminSubject(c.Resource, c.Verb) }

func (c AdminCommand) Key() string { return c.Resource + "." + c.Verb }

// EndpointName is the nats micro endpoint name the owner registers the command under.
func (c AdminCommand) EndpointName() string { return "admin-" + c.Resource + "-" + c.Verb }

func read(resource, verb, owner string) AdminCommand {
	return AdminCommand{Resource: resource, Verb: verb, Owner: owner, Permission: PermissionAdminRead}
}

func write(resource, verb, owner string) AdminCommand {
	return AdminCommand{Resource: resource, Verb: verb, Owner: owner, Permission: PermissionAdminWrite}
}

var adminCommands = []AdminCommand{
	read(ResourceRegions, VerbList, ServiceNodeRegistry),
	read(ResourceRegions, VerbGet, ServiceNodeRegistry),
	write(ResourceRegions, VerbCreate, ServiceNodeRegistry),
	read(ResourcePlans, VerbList, ServiceAccounts),
	read(ResourcePlans, VerbGet, ServiceAccounts),
	write(ResourcePlans, VerbCreate, ServiceAccounts),
	write(ResourcePlans, VerbUpdate, ServiceAccounts),
	read(ResourceUsers, VerbList, ServiceAccounts),
	read(ResourceUsers, VerbGet, ServiceAccounts),
	write(ResourceUsers, VerbCreate, ServiceAccounts),
	write(ResourceUsers, VerbSetStatus, ServiceAccounts),
	write(ResourceUsers, VerbLimits, ServiceAccounts),
	read(ResourceSubscriptions, VerbList, ServiceAccounts),
	read(ResourceSubscriptions, VerbGet, ServiceAccounts),
	write(ResourceSubscriptions, VerbCreate, ServiceAccounts),
	write(ResourceSubscriptions, VerbUpdate, ServiceAccounts),
	write(ResourceSubscriptions, VerbExtend, ServiceAccounts),
	write(ResourceSubscriptions, VerbCancel, ServiceAccounts),
	read(ResourceDevices, VerbList, ServiceAccounts),
	read(ResourceDevices, VerbGet, ServiceAccounts),
	write(ResourceDevices, VerbCreate, ServiceAccounts),
	write(ResourceDevices, VerbRevoke, ServiceAccounts),
	write(ResourceDevices, VerbRotate, ServiceAccounts),
	read(ResourceOutlineNodes, VerbList, ServiceNodeRegistry),
	read(ResourceOutlineNodes, VerbGet, ServiceNodeRegistry),
	write(ResourceOutlineNodes, VerbCreate, ServiceNodeRegistry),
	write(ResourceOutlineNodes, VerbSetStatus, ServiceNodeRegistry),
	read(ResourceGatewayNodes, VerbList, ServiceNodeRegistry),
	read(ResourceGatewayNodes, VerbGet, ServiceNodeRegistry),
	write(ResourceGatewayNodes, VerbCreate, ServiceNodeRegistry),
	write(ResourceGatewayNodes, VerbSetStatus, ServiceNodeRegistry),
	read(ResourceSessions, VerbList, ServiceUsageAggregator),
	read(ResourceSessions, VerbGet, ServiceUsageAggregator),
	read(ResourceUsage, VerbList, ServiceUsageAggregator),
	read(ResourceUsage, VerbGet, ServiceUsageAggregator),
	write(ResourceUsage, VerbReset, ServiceUsageAggregator),
}

// AdminCommands is the table of every admin command, in route order.
func AdminCommands() []AdminCommand { return append([]AdminCommand(nil), adminCommands...) }

// AdminCommandsOf lists the commands one service owns.
func AdminCommandsOf(owner string) []AdminCommand {
	var out []AdminCommand
	for _, c := range adminCommands {
		if c.Owner == owner {
			out = append(out, c)
		}
	}
	return out
}

// AdminOwners lists the services owning admin commands, each once, in table order.
func AdminOwners() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range adminCommands {
		if !seen[c.Owner] {
			seen[c.Owner] = true
			out = append(out, c.Owner)
		}
	}
	return out
}

// BindAdmin pairs the owner's commands with its handlers, keyed by AdminCommand.Key; a command
// without a handler, or a handler for a command the owner does not own, is an error.
func BindAdmin[H any](owner string, handlers map[string]H) ([]AdminCommand, []H, error) {
	cmds := AdminCommandsOf(owner)
	out := make([]H, 0, len(cmds))
	for _, c := range cmds {
		h, ok := handlers[c.Key()]
		if !ok {
			return nil, nil, fmt.Errorf("admin: %s owns %s but has no handler for it", owner, c.Key())
		}
		out = append(out, h)
	}
	if len(handlers) != len(cmds) {
		for key := range handlers {
			if !ownedBy(owner, key) {
				return nil, nil, fmt.Errorf("admin: %s has a handler for %s, which the table does not give it", owner, key)
			}
		}
	}
	return cmds, out, nil
}

func ownedBy(owner, key string) bool {
	for _, c := range AdminCommandsOf(owner) {
		if c.Key() == key {
			return true
		}
	}
	return false
}
