/** Instances on the current version, on an older one, and offline, as a stacked bar. */
export function InstanceBar(props: { current: number; older: number; offline: number }) {
  const total = props.current + props.older + props.offline;
  const label = `${props.current} on the current version, ${props.older} on an older version, ${props.offline} offline`;
  if (total === 0) return <span className="muted">no instances yet</span>;
  const part = (count: number, className: string) =>
    count === 0 ? null : <span className={`bar-part ${className}`} style={{ flexGrow: count }} />;
  return (
    <div className="instance-bar" role="img" aria-label={label} title={label}>
      <div className="bar">
        {part(props.current, 'bar-current')}
        {part(props.older, 'bar-older')}
        {part(props.offline, 'bar-offline')}
      </div>
      <span className="bar-legend">
        {props.current}/{total} current{props.older ? `, ${props.older} older` : ''}
        {props.offline ? `, ${props.offline} offline` : ''}
      </span>
    </div>
  );
}
