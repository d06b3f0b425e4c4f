// Who may request what: the product's rules table (shared/contact/rules.go), row for row.
// The first row whose conditions hold decides; when none does, the API refuses the request.

export const ROLES = ['admin', 'tech', 'billing'];

// to: 'another' when the new holder is someone other than the caller, 'himself' when the
// caller takes the role. confirmedBy: 'caller' and/or 'newHolder'.
export const RULES = [
  // The admin may set a new tech or billing contact, or take either role himself.
  { callerHolds: 'admin', changes: 'tech', to: 'another', confirmedBy: ['caller', 'newHolder'], notifyPrevious: true },
  { callerHolds: 'admin', changes: 'billing', to: 'another', confirmedBy: ['caller', 'newHolder'], notifyPrevious: true },
  { callerHolds: 'admin', changes: 'tech', to: 'himself', confirmedBy: ['caller'], notifyPrevious: true },
  { callerHolds: 'admin', changes: 'billing', to: 'himself', confirmedBy: ['caller'], notifyPrevious: true },
  // The admin may hand his own role over to someone else.
  { callerHolds: 'admin', changes: 'admin', to: 'another', confirmedBy: ['caller', 'newHolder'], notifyPrevious: false },
  // The tech and billing contacts may only hand their own role over.
  { callerHolds: 'tech', changes: 'tech', to: 'another', confirmedBy: ['caller', 'newHolder'], notifyPrevious: false },
  { callerHolds: 'billing', changes: 'billing', to: 'another', confirmedBy: ['caller', 'newHolder'], notifyPrevious: false },
];

// editable says whether some row lets an account holding myRoles ask for a new holder of role.
/**
 * @param {string[]} myRoles
 * @param {string} role
 */
export function editable(myRoles, role) {
  return RULES.some((r) => r.changes === role && myRoles.includes(r.callerHolds));
}

// permit is the row that decides a request by caller (holding myRoles) for role to pass to
// the account to, and the parties that must confirm; null when the table refuses it.
/**
 * @param {string[]} myRoles
 * @param {string} caller
 * @param {string} role
 * @param {string} to
 */
export function permit(myRoles, caller, role, to) {
  const want = to.toLowerCase() === caller.toLowerCase() ? 'himself' : 'another';
  const row = RULES.find((r) => r.changes === role && r.to === want && myRoles.includes(r.callerHolds));
  if (!row) return null;
  /** @type {string[]} */
  const parties = [];
  for (const who of row.confirmedBy) {
    const nic = who === 'caller' ? caller : to.toLowerCase();
    if (!parties.includes(nic)) parties.push(nic);
  }
  return { row, parties };
}
