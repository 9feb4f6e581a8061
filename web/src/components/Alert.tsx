// An error said next to where the person is looking, announced to screen readers.
export const Alert = ({ text, id }: { text: string | null | undefined; id?: string }) =>
  text ? (
    <p className="error" role="alert" id={id}>
      {text}
    </p>
  ) : null
