import { tagColorClass } from '../../utils/format'
import { TagIcon } from '../../utils/Icon'
import type { Tag } from '../api/types'

/** A tag as a coloured chip with its Font Awesome icon (colours and icons come from the API). */
export function TagChip({ tag }: { tag: Tag }) {
  return (
    <span className={`chip tag-chip ${tagColorClass(tag.color)}`}>
      <TagIcon icon={tag.icon} />
      {tag.title}
    </span>
  )
}
