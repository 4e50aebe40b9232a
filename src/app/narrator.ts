/**
 * Turns events into one readable sentence each, for the log and the demo's
 * narrative. Events not worth a line to a human return undefined (they are
 * still in the ledger).
 */
import { formatIst } from '../core/clock.js';
import type { RustroEvent } from '../core/events.js';

export function describe(event: RustroEvent): string | undefined {
  switch (event.type) {
    case 'DaemonStarted':
      return `rustro ${event.data.version} started in ${event.data.mode} mode (pid ${event.data.pid}, data in ${event.data.dataDir})`;
    case 'DaemonStopping':
      return `stopping: ${event.data.reason} — entries stopped, flushing the ledger`;
    case 'DaemonStopped':
      return `stopped cleanly after ${(event.data.uptimeMs / 1000).toFixed(1)} s (${event.data.reason})`;
    case 'LockTakenOver':
      return `took over a stale lock ${event.data.lockFile} left by pid ${event.data.stalePid}, which is no longer running`;
    case 'HandlerFailed':
      return `a ${event.data.handler} handler failed on ${event.data.eventType}: ${event.data.error} (isolated; the daemon goes on)`;
    case 'LedgerRepaired':
      return `ledger ${event.data.file} had a damaged tail (${event.data.reason}): kept ${event.data.keptBytes} bytes, moved ${event.data.movedBytes} bytes to ${event.data.corruptFile}`;
    case 'Tick':
      return undefined;
    case 'BrokerLoggedIn':
      return "logged in to the broker (the session is valid until midnight IST)";
    case 'BrokerSessionRefreshed':
      return `broker session refreshed (${event.data.reason})`;
    case 'InstrumentsLoaded':
      return `instrument master loaded: ${event.data.count} instruments, ${event.data.options} options`;
    case 'BrokerLoggedOut':
      return `logged out of the broker (${event.data.reason})`;
    case 'BrokerRequestFailed':
      return `broker ${event.data.endpoint} failed after ${event.data.attempts} attempt(s): ${event.data.code} ${event.data.message}`;
    case 'FeedSubscribed':
      return `feed subscribed ${event.data.refs.map((r) => r.token).join(', ')}`;
    case 'FeedUnsubscribed':
      return `feed unsubscribed ${event.data.refs.map((r) => r.token).join(', ')}`;
    case 'FeedConnected':
      return `market feed connected (connection ${event.data.connection}, ${event.data.subscriptions} subscriptions)`;
    case 'FeedDisconnected':
      return `market feed disconnected (connection ${event.data.connection}): ${event.data.reason}`;
    case 'FeedReconnectScheduled':
      return `market feed reconnecting in ${(event.data.delayMs / 1000).toFixed(1)} s (attempt ${event.data.attempt})`;
    case 'FeedMuted':
      return `market feed silent for ${(event.data.silentMs / 1000).toFixed(0)} s during the session: ${event.data.action}`;
    case 'FeedFrameRejected':
      return `dropped a bad feed frame (${event.data.length} bytes): ${event.data.reason}`;
    case 'FeedErrorReceived':
      return `feed server error ${event.data.code}: ${event.data.message}`;
    case 'OrderUpdated':
      return `order ${event.data.orderId}${event.data.tag === undefined ? '' : ` (${event.data.tag})`} ${event.data.state.replace('_', ' ')}: ${event.data.filledQty} filled @ ${event.data.avgFillPrice}${event.data.reason === undefined ? '' : ` — ${event.data.reason}`}`;
    case 'BarClosed': {
      const d = event.data;
      const vol = d.volume === undefined ? '' : ` vol ${d.volume}`;
      return `${d.tf} bar ${d.token} ${formatIst(d.ts).slice(11, 16)}–${formatIst(d.end).slice(11, 16)}: O ${d.open} H ${d.high} L ${d.low} C ${d.close}${vol} (${d.ticks} ticks${d.backfilled ? ', partly backfilled' : ''})`;
    }
    case 'FeedStale':
      return `no tick for ${(event.data.silentMs / 1000).toFixed(0)} s during the session: feed stale, entries paused`;
    case 'FeedResumed':
      return `ticks flowing again after ${(event.data.staleMs / 1000).toFixed(0)} s stale`;
    case 'TicksDropped':
      return `dropped ticks: ${event.data.late} late, ${event.data.duplicate} duplicate, ${event.data.outsideSession} outside the session`;
    case 'StreamWarm':
      return `${event.data.token} ${event.data.tf} is warm: ${event.data.bars} bars (needs ${event.data.need})`;
    case 'HistoryFetchFailed':
      return `could not fetch ${event.data.tf} history for ${event.data.token}: ${event.data.error} (it warms up from live bars)`;
    case 'BarsBackfilled':
      return `backfilled ${event.data.minutes} minute(s) of ${event.data.token} ${formatIst(event.data.from).slice(11, 16)}–${formatIst(event.data.to).slice(11, 16)} from 1-minute candles (${event.data.reason})`;
    case 'BarsRestored':
      return `restored ${event.data.bars} closed bars from ${event.data.files} file(s) in data/bars${event.data.skippedLines > 0 ? ` (${event.data.skippedLines} bad line(s) skipped)` : ''}`;
    case 'OrderIntentRecorded':
      return `intent ${event.data.intentId}: ${event.data.side} ${event.data.qty} ${event.data.symbol} ${event.data.orderType} @ ${event.data.price} (${event.data.purpose}, tag ${event.data.tag})`;
    case 'OrderFilled':
      return `filled ${event.data.qty} @ ${event.data.price} (order ${event.data.brokerOrderId}, intent ${event.data.intentId})`;
    case 'RiskHalted':
      return `risk halted ${event.data.scope}: ${event.data.reason}`;
    case 'DailyBiasDecided': {
      const d = event.data;
      const shown = d.checks.filter((c) => c.name !== 'daily_warm').map((c) => `${c.name} ${showValue(c.value)}${c.passed ? '' : ` (needs ${c.limit})`}`);
      return `${d.strategy} ${d.underlying}: today's bias ${d.bias === 'none' ? 'none — no trade today' : d.bias} · ${shown.join(', ')}`;
    }
    case 'StrategyEvaluated': {
      const d = event.data;
      const verdict = d.outcome === 'signal' ? `${d.side} signal` : d.outcome === 'not_warm' ? 'not warm yet' : `${d.outcome.replace('_', ' ')} (${d.failed.join(', ')})`;
      return `${d.strategy} ${d.underlying} ${d.tf} bar ${formatIst(d.barTs).slice(11, 16)}: ${verdict}`;
    }
    case 'SignalRaised':
      return `SIGNAL ${event.data.action} ${event.data.underlying} ${event.data.side} (${event.data.strategy}, spot ${event.data.spot.toFixed(2)}): ${event.data.reason}`;
    case 'OptionPicked':
      return `picked ${event.data.symbol} (${event.data.optionType} ${event.data.strike}, expiry ${event.data.expiry}${event.data.rolled ? ', rolled past the expiry-day cutoff' : ''}, lot ${event.data.lotSize}) for spot ${event.data.spot.toFixed(2)}`;
    case 'OptionPickFailed':
      return `no option for ${event.data.underlying} signal: ${event.data.reason} — ${event.data.detail}`;
    case 'EntrySkipped':
      return `entry skipped (${event.data.underlying}): ${event.data.reason} — ${event.data.detail}`;
    case 'OrderRefused':
      return `${event.data.purpose} order refused by the ${event.data.check} check: ${event.data.detail}`;
    case 'OrderPlaced':
      return `order ${event.data.orderId} placed for intent ${event.data.intentId}${event.data.foundByTag ? ' (found by its tag)' : ''}`;
    case 'OrderPlaceFailed':
      return `order for intent ${event.data.intentId} ${event.data.outcome === 'unknown' ? 'has an unknown outcome (not found by tag; never re-sent)' : 'was rejected'}: ${event.data.code} ${event.data.message}`;
    case 'OrderRepriced':
      return `ladder step ${event.data.attempt}: order ${event.data.orderId} → ${event.data.orderType === 'MARKET' ? 'MARKET' : `LIMIT @ ${event.data.price}`}`;
    case 'OrderCancelRequested':
      return `cancelling order ${event.data.orderId}: ${event.data.reason}`;
    case 'OrderStateChanged':
      return undefined;
    case 'OrderTransitionIgnored':
      return `order ${event.data.orderId}: ignored an update ${event.data.from} → ${event.data.to} (${event.data.reason})`;
    case 'PositionStopMoved':
      return `position ${event.data.positionId}: stop ${event.data.reason === 'profit_lock' ? 'locked at entry' : 'trailed'} to ${event.data.stop.toFixed(2)} (high ${event.data.high.toFixed(2)})`;
    case 'ExitTriggered':
      return `EXIT ${event.data.reason.replace(/_/g, ' ')} for position ${event.data.positionId} at ${event.data.ltp}: ${event.data.detail}`;
    case 'PositionClosed': {
      const d = event.data;
      return `closed ${d.qty} ${d.symbol}: bought ${d.entryAvg.toFixed(2)}, sold ${d.exitAvg.toFixed(2)} → gross ${rupees(d.grossPnl)}, charges ${rupees(d.charges)}, net ${rupees(d.netPnl)} (${d.reason.replace(/_/g, ' ')})`;
    }
    case 'KillSwitchActivated':
      return `KILL SWITCH (${event.data.source}): ${event.data.detail} — flattening, no more entries today`;
    case 'ReconciliationCompleted': {
      const d = event.data;
      return `reconciled with the broker (${d.trigger}, ${d.mode}): ${d.ordersChecked} order(s) and ${d.positionsChecked} position(s) checked, ${d.foundByTag.length} placement(s) found by tag, ${d.notAtBroker.length} never reached the broker, ${d.eventsApplied} event(s) applied, ${d.mismatches.length} mismatch(es) — ${d.action}${d.detail === '' ? '' : `: ${d.detail}`}`;
    }
    case 'RecoveryResumed':
      return `after the restart, carrying on with: ${event.data.ladders} order ladder(s) (${event.data.steps.length} step(s) sent again), ${event.data.picks.length} option pick(s), ${event.data.entries.length} entry order(s) and ${event.data.exits.length} exit(s) decided before the daemon stopped`;
    case 'StateRestored':
      return `restored today's state from the ledger: ${event.data.events} events, ${event.data.openPositions} open position(s), ${event.data.workingOrders} working order(s), realised ${rupees(event.data.realisedToday)}${event.data.halted ? ', HALTED' : ''}`;
  }
}

/** Rupees for people: ₹1,23,456.78 (Indian grouping). */
export function rupees(x: number): string {
  return `${x < 0 ? '-' : ''}₹${Math.abs(x).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function showValue(v: string | number | boolean | null): string {
  return typeof v === 'number' ? (Math.round(v * 100) / 100).toString() : String(v);
}

/** Warnings and errors stand out in the log. */
export function severity(event: RustroEvent): 'debug' | 'info' | 'warn' | 'error' {
  switch (event.type) {
    case 'BarClosed':
    case 'StrategyEvaluated':
      // Hourly and daily bars (and decisions on them) are worth a line at info; the minute ones are there at debug.
      return event.data.tf === '1h' || event.data.tf === '1d' ? 'info' : 'debug';
    case 'HandlerFailed':
    case 'BrokerRequestFailed':
      return 'error';
    case 'FeedDisconnected':
    case 'FeedMuted':
    case 'FeedFrameRejected':
    case 'FeedErrorReceived':
    case 'LedgerRepaired':
    case 'LockTakenOver':
    case 'RiskHalted':
    case 'FeedStale':
    case 'TicksDropped':
    case 'HistoryFetchFailed':
    case 'OptionPickFailed':
    case 'OrderRefused':
    case 'OrderPlaceFailed':
    case 'OrderTransitionIgnored':
    case 'KillSwitchActivated':
      return 'warn';
    case 'OrderStateChanged':
    case 'PositionStopMoved':
    case 'FeedSubscribed':
    case 'FeedUnsubscribed':
      return 'debug';
    case 'ReconciliationCompleted':
      // A routine round that found nothing is there at debug; a restart's, or one that found something, at info.
      return event.data.trigger === 'timer' && event.data.action === 'none' && event.data.eventsApplied === 0 ? 'debug' : 'info';
    default:
      return 'info';
  }
}
