import { useEffect, useRef, useState } from 'react'
import { NavLink, useLocation, useNavigate } from 'react-router'
import { useAppDispatch, useAppSelector } from '../../app/hooks'
import { MaterialIcon } from '../../utils/Icon'
import { useGetUserQuery } from '../api/apiSlice'
import { logout } from '../auth/authThunks'
import { selectLive, useGetNotificationsQuery } from '../notifications/notificationsSlice'

const LINKS = [
  { to: '/overview', label: 'Overview', icon: 'dashboard' },
  { to: '/activity', label: 'Activity', icon: 'receipt_long' },
  { to: '/transfer', label: 'New transfer', icon: 'send' },
  { to: '/settings', label: 'Settings', icon: 'settings' },
]

const LIVE_WORDS = {
  online: 'Live updates on',
  connecting: 'Connecting live updates…',
  reconnecting: 'Live updates interrupted, reconnecting…',
  offline: 'Live updates off',
}

function LiveIndicator() {
  const live = useAppSelector(selectLive)
  const text = LIVE_WORDS[live.status]
  return (
    <span className={`live-dot live-${live.status}`} data-testid="live-status" data-status={live.status}
          data-instance={live.instance ?? ''} title={text}>
      <span className="visually-hidden">{text}</span>
    </span>
  )
}

function NotificationBell() {
  // This subscription keeps the notifications (and so the WebSocket) alive on every screen.
  const { data } = useGetNotificationsQuery()
  const unread = data?.unread ?? 0
  return (
    <NavLink to="/notifications" className="nav-icon-link" data-testid="notifications-link"
             aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}>
      <MaterialIcon name={unread ? 'notifications_active' : 'notifications'} />
      {unread > 0 && <span className="nav-badge" data-testid="unread-badge" aria-hidden="true">{unread > 99 ? '99+' : unread}</span>}
    </NavLink>
  )
}

export function NavBar() {
  const dispatch = useAppDispatch()
  const navigate = useNavigate()
  const location = useLocation()
  const { data: user } = useGetUserQuery()
  const [open, setOpen] = useState(false)
  const [leaving, setLeaving] = useState(false)
  const toggle = useRef<HTMLButtonElement>(null)

  useEffect(() => setOpen(false), [location.pathname])
  useEffect(() => {
    if (!open) return
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false)
        toggle.current?.focus()
      }
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [open])

  const signOut = async () => {
    setLeaving(true)
    await dispatch(logout())
    navigate('/login', { replace: true })
  }

  const links = LINKS.map((link) => (
    <li key={link.to}>
      <NavLink to={link.to}>
        <MaterialIcon name={link.icon} className="nav-link-icon" />
        <span>{link.label}</span>
      </NavLink>
    </li>
  ))

  return (
    <header className="piggy-header">
      <nav className="piggy-nav" aria-label="Main">
        <div className="piggy-nav-inner">
          <button ref={toggle} type="button" className="nav-menu-button" aria-label="Menu" aria-expanded={open}
                  aria-controls="nav-links" onClick={() => setOpen((o) => !o)}>
            <MaterialIcon name={open ? 'close' : 'menu'} />
          </button>
          <NavLink to="/overview" className="piggy-brand" aria-label="PiggyBank, overview">
            <MaterialIcon name="savings" />
            <span>PiggyBank</span>
          </NavLink>
          <ul id="nav-links" className={`piggy-links ${open ? 'open' : ''}`}>
            {links}
            <li className="nav-signout-mobile">
              <button type="button" onClick={signOut} disabled={leaving}>
                <MaterialIcon name="logout" className="nav-link-icon" />
                <span>Sign out</span>
              </button>
            </li>
          </ul>
          <div className="piggy-nav-tools">
            <LiveIndicator />
            <NotificationBell />
            {user && <span className="nav-user" title={user.email}>{user.firstName}</span>}
            <button type="button" className="nav-signout" onClick={signOut} disabled={leaving} data-testid="logout" aria-label="Sign out">
              <MaterialIcon name="logout" />
              <span>Sign out</span>
            </button>
          </div>
        </div>
      </nav>
      {open && <div className="nav-scrim" onClick={() => setOpen(false)} aria-hidden="true" />}
    </header>
  )
}
