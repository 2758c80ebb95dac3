import type { OperatorsService } from './operators.service';

export interface EnsureFirstOperatorParams {
  operators: OperatorsService;
  /** ADMIN_USERNAME/ADMIN_PASSWORD, when the user set them. */
  bootstrapAdmin: { username: string; password: string } | null;
  publicBaseUrl: string;
  /**
   * The terminal (process.stdout at the root). A generated password goes here once and never
   * to the logger, whose lines end up in log files and collectors.
   */
  print: (text: string) => void;
}

export type FirstOperatorOutcome = 'configured' | 'generated' | 'existing';

/**
 * At start-up, makes sure someone can log in: the configured admin, or else (no operator at all)
 * `admin` with a generated one-time password printed with the admin page's address. When two
 * instances start together, one creates the admin and only that one prints the password.
 */
export async function ensureFirstOperator(params: EnsureFirstOperatorParams): Promise<FirstOperatorOutcome> {
  if (params.bootstrapAdmin) return (await params.operators.ensureBootstrapAdmin(params.bootstrapAdmin)) ? 'configured' : 'existing';
  const generated = await params.operators.ensureFirstRunAdmin();
  if (!generated) return 'existing';
  params.print(
    [
      '',
      '  First run: created the operator below. Its password is shown this once and must be changed at the first login.',
      `    Admin page: ${params.publicBaseUrl}/admin`,
      `    Username:   ${generated.username}`,
      `    Password:   ${generated.password}`,
      '  Lost it? npm run admin -- reset-password admin',
      '',
      '',
    ].join('\n'),
  );
  return 'generated';
}
