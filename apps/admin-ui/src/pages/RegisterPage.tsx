import { href, navigate } from '../router';
import { useSession } from '../session';
import { RegistrationForm } from './RegistrationForm';

/** A new service over the API (admin role): on success, its config editor. */
export function RegisterPage() {
  const { can } = useSession();
  if (!can('admin')) return <p role="alert">Registering a service needs the admin role.</p>;
  return (
    <>
      <p className="crumbs">
        <a href={href(['services'])}>Services</a> /
      </p>
      <h1>Register a service</h1>
      <p className="muted">
        A service registered here gets schema version 1 and config version 1 from the schema&apos;s
        defaults; its workers receive both over MQTT.
      </p>
      <RegistrationForm
        onRegistered={(registration) => navigate(['services', registration.service, 'config'])}
      />
    </>
  );
}
