import { defineWidgetConfig } from "@medusajs/admin-sdk"
import type { AdminCustomer, DetailWidgetProps } from "@medusajs/framework/types"
import { Badge, Button, Container, Heading, Input, Label, Table, Text, toast } from "@medusajs/ui"
import { useCallback, useEffect, useState, type FormEvent } from "react"

/**
 * The customer's loyalty points on the customer page (zone customer.details.after):
 * balance, held, available, the last 20 adjustments (from
 * GET /admin/loyalty/points/:customer_id?include_history=true) and a form that
 * adjusts the balance through POST /admin/loyalty/points/adjust. Errors are
 * shown as the Admin shows them: a toast with the server's message.
 */

type HistoryEntry = {
  id: string
  delta: number
  reason: string
  balance_after: number
  created_at: string | null
}

type PointsView = {
  customer_id: string
  balance: number
  held: number
  available: number
  updated_at: string | null
  history: HistoryEntry[]
}

type MedusaErrorBody = { type?: string; message?: string }

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, {
    credentials: "include",
    ...init,
    headers: { Accept: "application/json", ...(init?.body ? { "Content-Type": "application/json" } : {}), ...(init?.headers ?? {}) },
  })
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (!res.ok) {
    const err = (body ?? {}) as MedusaErrorBody
    throw new Error(err.message || `${res.status} ${res.statusText}`)
  }
  return body as T
}

function formatDate(value: string | null): string {
  return value ? new Date(value).toLocaleString() : "-"
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n)
}

const CustomerLoyaltyPointsWidget = ({ data: customer }: DetailWidgetProps<AdminCustomer>) => {
  const [points, setPoints] = useState<PointsView | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [delta, setDelta] = useState("")
  const [reason, setReason] = useState("")
  const [saving, setSaving] = useState(false)

  const load = useCallback(async () => {
    try {
      const view = await call<PointsView>(`/admin/loyalty/points/${encodeURIComponent(customer.id)}?include_history=true`)
      setPoints(view)
      setLoadError(null)
    } catch (e) {
      setLoadError((e as Error).message)
      toast.error((e as Error).message)
    }
  }, [customer.id])

  useEffect(() => {
    void load()
  }, [load])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    try {
      const result = await call<{ balance_after: number }>("/admin/loyalty/points/adjust", {
        method: "POST",
        // One key per submission: a network retry of this request is applied once.
        headers: { "Idempotency-Key": `admin-widget-${customer.id}-${Date.now()}-${Math.random().toString(36).slice(2)}` },
        body: JSON.stringify({ customer_id: customer.id, delta: delta.trim(), reason: reason.trim() }),
      })
      toast.success(`Points adjusted: balance ${result.balance_after}`)
      setDelta("")
      setReason("")
      await load()
    } catch (e) {
      toast.error((e as Error).message)
    } finally {
      setSaving(false)
    }
  }

  return (
    <Container className="divide-y p-0" data-testid="loyalty-points-widget">
      <div className="flex items-center justify-between px-6 py-4">
        <Heading level="h2">Loyalty points</Heading>
        {points && points.held > 0 ? <Badge size="2xsmall">{points.held} held</Badge> : null}
      </div>
      <div className="grid grid-cols-3 gap-4 px-6 py-4">
        <div>
          <Text size="small" leading="compact" className="text-ui-fg-subtle">Balance</Text>
          <Text size="large" weight="plus" data-testid="loyalty-points-balance">{points ? points.balance : "-"}</Text>
        </div>
        <div>
          <Text size="small" leading="compact" className="text-ui-fg-subtle">Held</Text>
          <Text size="large" weight="plus" data-testid="loyalty-points-held">{points ? points.held : "-"}</Text>
        </div>
        <div>
          <Text size="small" leading="compact" className="text-ui-fg-subtle">Available</Text>
          <Text size="large" weight="plus" data-testid="loyalty-points-available">{points ? points.available : "-"}</Text>
        </div>
      </div>
      {loadError ? (
        <div className="px-6 py-4">
          <Text size="small" className="text-ui-fg-error">{loadError}</Text>
        </div>
      ) : null}
      <form className="flex items-end gap-2 px-6 py-4" onSubmit={submit} data-testid="loyalty-points-adjust-form">
        <div className="flex flex-col gap-1">
          <Label size="small" htmlFor="loyalty-points-delta">Points (+/-)</Label>
          <Input id="loyalty-points-delta" name="delta" size="small" placeholder="e.g. 50 or -20" value={delta} onChange={(e) => setDelta(e.target.value)} />
        </div>
        <div className="flex flex-1 flex-col gap-1">
          <Label size="small" htmlFor="loyalty-points-reason">Reason</Label>
          <Input id="loyalty-points-reason" name="reason" size="small" placeholder="Goodwill, correction..." value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
        <Button type="submit" size="small" variant="secondary" isLoading={saving} disabled={saving || !delta.trim()}>
          Adjust
        </Button>
      </form>
      <div className="px-0 py-0">
        <Table>
          <Table.Header>
            <Table.Row>
              <Table.HeaderCell>Date</Table.HeaderCell>
              <Table.HeaderCell>Points</Table.HeaderCell>
              <Table.HeaderCell>Reason</Table.HeaderCell>
              <Table.HeaderCell className="text-right">Balance after</Table.HeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {(points?.history ?? []).map((entry) => (
              <Table.Row key={entry.id} data-testid="loyalty-points-history-row">
                <Table.Cell>{formatDate(entry.created_at)}</Table.Cell>
                <Table.Cell>{signed(entry.delta)}</Table.Cell>
                <Table.Cell>{entry.reason || "-"}</Table.Cell>
                <Table.Cell className="text-right">{entry.balance_after}</Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
        {points && !points.history.length ? (
          <Text size="small" className="text-ui-fg-subtle px-6 py-4">No adjustments yet</Text>
        ) : null}
      </div>
    </Container>
  )
}

export const config = defineWidgetConfig({
  zone: "customer.details.after",
})

export default CustomerLoyaltyPointsWidget
