// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { checkIban, formatIban, isValidIban, normalizeIban } from './iban'

// The seed's IBANs (app/schema/seed.py), valid by the server's mod-97 check.
const SEED = ['AT961000100000000001', 'AT691000100000000002', 'AT421000100000000003', 'AT151000100000000004']

describe('IBAN check (mirrors app/bank/money.py)', () => {
  it.each(SEED)('accepts the seed IBAN %s', (iban) => {
    expect(isValidIban(iban)).toBe(true)
  })

  it('accepts spaces and lower case, as the server does', () => {
    expect(isValidIban('at69 1000 1000 0000 0002')).toBe(true)
  })

  it.each([
    ['AT691000100000000003', 'one digit off'],
    ['AT961000100000000010', 'two digits swapped'],
    ['DE691000100000000002', 'another country with these check digits'],
    ['AT69100010000000', 'too short'],
    ['AT6910001000000000021234567890123456', 'too long'],
    ['A1691000100000000002', 'no country code'],
    ['GB82WEST12345698765432x', 'a character that is not a letter or digit'],
  ])('refuses %s (%s)', (iban) => {
    expect(isValidIban(iban)).toBe(false)
  })

  it('knows a foreign IBAN with letters in it', () => {
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true)
  })

  it('formats in groups of four', () => {
    expect(formatIban('at961000100000000001')).toBe('AT96 1000 1000 0000 0001')
    expect(normalizeIban(' AT96 1000\t1000 ')).toBe('AT9610001000')
  })
})

describe('checkIban: what to say while the user types', () => {
  it('helps before anything is typed', () => {
    expect(checkIban('').state).toBe('empty')
  })

  it('counts while an Austrian IBAN is incomplete', () => {
    expect(checkIban('AT69 1000')).toEqual({ state: 'incomplete', message: '8 of 20 characters' })
  })

  it('complains at once about a wrong start', () => {
    expect(checkIban('12').state).toBe('invalid')
    expect(checkIban('ATX').message).toMatch(/two check digits/)
    expect(checkIban('AT69-1000').message).toMatch(/only letters and digits/)
  })

  it('says when the check digits do not match', () => {
    expect(checkIban('AT69 1000 1000 0000 0003')).toEqual({
      state: 'invalid', message: "The check digits don't match: please check for a typo.",
    })
  })

  it('accepts a complete, correct IBAN', () => {
    expect(checkIban('AT69 1000 1000 0000 0002').state).toBe('valid')
  })
})
