// Who may do what. Roles are ordered: each one may do everything the one before it may.
// A route names the least role it needs; a principal with a lower role gets 403.
export const roles = ["viewer", "operator", "approver", "admin"] as const
export type Role = (typeof roles)[number]

export const isRole = (s: string): s is Role => (roles as ReadonlyArray<string>).includes(s)

/** Whether a principal with `held` may do what needs `needed`. */
export const permits = (held: Role, needed: Role): boolean => roles.indexOf(held) >= roles.indexOf(needed)

/** A named caller: an API key's owner, or the shared token's. */
export interface Principal {
  readonly name: string
  readonly role: Role
}
