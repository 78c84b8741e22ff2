// Grafana's named colours (the dark theme's visualization palette) and its classic series palette,
// as hex values; plus the text colour that reads best on a coloured background (WCAG contrast).

const NAMED: Record<string, string> = {
  red: '#F2495C', 'dark-red': '#C4162A', 'semi-dark-red': '#E02F44', 'light-red': '#FF7383', 'super-light-red': '#FFA6B0',
  orange: '#FF9830', 'dark-orange': '#FA6400', 'semi-dark-orange': '#FF780A', 'light-orange': '#FFB357',
  'super-light-orange': '#FFCB7D',
  yellow: '#FADE2A', 'dark-yellow': '#E0B400', 'semi-dark-yellow': '#F2CC0C', 'light-yellow': '#FFEE52',
  'super-light-yellow': '#FFF899',
  green: '#73BF69', 'dark-green': '#37872D', 'semi-dark-green': '#56A64B', 'light-green': '#96D98D',
  'super-light-green': '#C8F2C2',
  blue: '#5794F2', 'dark-blue': '#1F60C4', 'semi-dark-blue': '#3274D9', 'light-blue': '#8AB8FF',
  'super-light-blue': '#C0D8FF',
  purple: '#B877D9', 'dark-purple': '#8F3BB8', 'semi-dark-purple': '#A352CC', 'light-purple': '#CA95E5',
  'super-light-purple': '#DEB6F2',
  transparent: 'transparent', text: '#CCCCDC',
}

export const CLASSIC_PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A6', '#705DA0',
  '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477', '#B7DBAB', '#F4D598',
  '#70DBED', '#F9BA8F', '#F29191', '#82B5D8', '#E5A8E2', '#AEA2E0']

/** A colour as the files write it (a Grafana name, hex or CSS) as a CSS colour. */
export function resolveColor(color: string | undefined): string {
  if (!color) return NAMED.text
  return NAMED[color] ?? color
}

export function paletteColor(index: number): string {
  return CLASSIC_PALETTE[index % CLASSIC_PALETTE.length]
}

function channels(hex: string): [number, number, number] | null {
  const match = /^#([0-9a-f]{6})$/i.exec(hex)
  if (!match) return null
  const n = parseInt(match[1], 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

/** Relative luminance (WCAG 2.1). */
export function luminance(hex: string): number {
  const rgb = channels(hex)
  if (!rgb) return 0
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

/** Near-black or white, whichever contrasts more with the background. */
export function textOn(background: string): string {
  const dark = '#111217'
  return contrast(background, dark) >= contrast(background, '#FFFFFF') ? dark : '#FFFFFF'
}

/** The colour with an alpha (0–1), for fills. */
export function withAlpha(color: string, alpha: number): string {
  const rgb = channels(color)
  return rgb ? `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})` : color
}
