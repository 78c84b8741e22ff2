// Icons are decoration: hidden from screen readers, the text next to them says what they mean.

export function MaterialIcon({ name, className = '' }: { name: string; className?: string }) {
  return <i className={`material-icons ${className}`.trim()} aria-hidden="true">{name}</i>
}

/** A Font Awesome class list from the API ("fa fa-coffee"); anything else is dropped. */
export function TagIcon({ icon }: { icon: string }) {
  const safe = /^[a-z0-9 -]{1,64}$/.test(icon) ? icon : 'fa fa-tag'
  return <i className={safe} aria-hidden="true" />
}
