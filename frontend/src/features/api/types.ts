// The API's JSON, as app/api/schemas.py defines it.

export type Tag = { title: string; color: string; icon: string }

export type User = {
  firstName: string
  lastName: string
  email: string
  iban: string
  bic: string
  balance: string
  limit: string
  remaining: string
}

export type Token = { access_token: string; token_type: 'JWT'; expires_in: number }

export type ActivityItem = {
  id: number
  direction: 'in' | 'out'
  amount: string
  counterpartyName: string
  counterpartyIban: string
  comment: string
  tags: Tag[]
  createdAt: string
}

export type ActivityPage = { items: ActivityItem[]; nextCursor: string | null }
export type ActivityFilter = { direction?: 'in' | 'out' | ''; tag?: string }

export type TransferStatus = 'pending' | 'booked' | 'cancelled' | 'expired' | 'rejected'
export type Transfer = {
  id: number
  status: TransferStatus
  amount: string
  currency: 'EUR'
  recipientIban: string
  recipientName: string
  comment: string
  tags: Tag[]
  createdAt: string
  expiresAt: string | null
  bookedAt: string | null
  tanAttemptsLeft: number
  rejectReason: string | null
}

export type NewTransfer = { recipientIban: string; recipientName: string; amount: string; comment: string; tags: string[] }

export type Interval = 'daily' | 'monthly' | 'yearly'
export type Direction = 'in' | 'out'
export type Stats = { interval: Interval; direction: Direction; series: { period: string; amount: string }[] }

export type Notification = {
  id: number
  type: string
  createdAt: string
  read: boolean
  amount?: string
  from?: string
  fromIban?: string
  transferId?: number
  comment?: string
}
export type Notifications = { items: Notification[]; unread: number }

export type Sms = { id: number; phone: string; body: string; createdAt: string }
